/**
 * Command line: argv → the command it names (commands/) → its exit code. Commands other than
 * start and validate are loaded on demand, so serving never loads the devnet, the official
 * client or the ledger commands (their help text is apart: commands/ledger/usage.ts). main.ts
 * turns the code into the process exit (the only place that calls process.exit).
 */
import { readFileSync } from 'node:fs';
import { runStartCommand } from './commands/start.js';
import { runValidateCommand } from './commands/validate.js';
import { LEDGER_HELP, LEDGER_SYNOPSIS } from './commands/ledger/usage.js';
import { UsageError } from './flags.js';

const HELP = `x402-gateway — pay-per-call (x402) reverse proxy

Usage:
  x402-gateway [start] --config FILE [--ledger PATH] [--watch]
                                         start the gateway (--ledger: the book's file, instead of
                                         the config's ledger.sqlite.path; --watch: reload the
                                         config when the file changes)
  x402-gateway validate --config FILE    check a config file: print every problem, exit 1; or exit 0
  x402-gateway facilitator --rpc URL --key KEY [--port N] [--host H]
                                         serve the built-in facilitator over HTTP (/verify, /settle, /supported)
  x402-gateway dev [--config FILE] [--ledger PATH]
                                         npm start: local devnet + built-in facilitator + demo API +
                                         gateway, on a fresh ledger in a temporary folder (printed)
  x402-gateway devnet [--chain base-sepolia|base] [--port N] [--facilitator-port N]
                                         only the local devnet (anvil with EIP-3009 USDC), printed details
  x402-gateway pay URL [--key K] [--rpc URL] [--max TOKENS] [--method M] [--data BODY]
                     [--header 'K: V']... [--v1]
                                         pay for one call as a client and show the receipt and balances
                                         (--max: whole tokens such as "$0.01", not atomic units)
  x402-gateway ledger report|export|resolve|backup|reconcile (--ledger PATH | --config FILE) …
  x402-gateway ledger reconcile --admin URL
                                         the book of record: reports, exports, an operator's
                                         resolution, online backup, a reconciliation pass with the
                                         chain (offline, or by a running gateway; see "Ledger" below)
  x402-gateway --help                    this text (x402-gateway COMMAND --help: that command's)
  x402-gateway --version                 the version

Options:
  -c, --config FILE   YAML config (see gateway.example.yaml); \${ENV} references are interpolated,
                      an unset variable is an error
  -h, --help          show this help

Signals: SIGTERM/SIGINT stop accepting, let in-flight requests and settlements finish
(server.shutdownTimeoutMs), then exit 0. SIGHUP reloads the config (start, dev): requests in
flight finish on the old one; an invalid file keeps it; restart-only keys are refused by name.
Run the command itself (node_modules/.bin/x402-gateway), not npx: npx does not pass SIGTERM on.

Ledger, the book of record (${LEDGER_SYNOPSIS}):
${LEDGER_HELP}`;

/** `start`'s and `validate`'s own usage (`x402-gateway start --help`). */
const START_USAGE = `usage: x402-gateway [start] --config FILE [--ledger PATH] [--watch]
  -c, --config FILE  YAML config (see gateway.example.yaml)
  --ledger PATH      the ledger's file, instead of the config's ledger.sqlite.path
  --watch            reload the config when the file changes (SIGHUP always reloads it)
Serves until SIGTERM/SIGINT, then drains in-flight requests and settlements (server.shutdownTimeoutMs)
and exits 0. A reload swaps the config between requests: routes, prices, payTo, assets, unpriced,
timeouts, log level, rate limits, the facilitator's URL and headers; other keys need a restart
(docs/operations.md lists them) and are refused by name while the rest applies.
Run it directly (node_modules/.bin/x402-gateway), not through npx: npx does not pass SIGTERM on,
and the gateway would keep running.
`;
const VALIDATE_USAGE = `usage: x402-gateway validate --config FILE
  Check a config file without starting anything: print every problem with its line and exit 1,
  or print "ok" and exit 0.
`;

/** The usage text of one command, for `x402-gateway <command> --help`; undefined if unknown. */
async function usageOf(command: string): Promise<string | undefined> {
  switch (command) {
    case 'start':
      return START_USAGE;
    case 'validate':
      return VALIDATE_USAGE;
    case 'dev':
      return (await import('./commands/dev.js')).DEV_USAGE;
    case 'devnet':
      return (await import('./commands/devnet.js')).DEVNET_USAGE;
    case 'pay':
      return (await import('./commands/pay.js')).PAY_USAGE;
    case 'facilitator':
      return (await import('./commands/facilitator.js')).FACILITATOR_USAGE;
    case 'ledger':
      return (await import('./commands/ledger/usage.js')).LEDGER_USAGE;
    default:
      return undefined;
  }
}

/** The `version` of the package.json beside src/ (and dist/). */
export function packageVersion(): string {
  const file = new URL('../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-V') {
    process.stdout.write(`x402-gateway ${packageVersion()}\n`);
    return 0;
  }
  const command = first === undefined || first.startsWith('-') ? 'start' : first;
  const args = command === first ? rest : [...argv];
  if (args.includes('--help') || args.includes('-h') || command === 'help') {
    // `x402-gateway pay --help`: that command's usage; `x402-gateway --help`: everything.
    const usage = command === first ? await usageOf(command) : undefined;
    process.stdout.write(usage ?? HELP);
    return 0;
  }
  try {
    return await run(command, args);
  } catch (error) {
    // parseArgs rejects unknown flags and missing values with ERR_PARSE_ARGS_*: a usage error.
    const code = (error as NodeJS.ErrnoException).code;
    if (
      error instanceof UsageError ||
      (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`${(error as Error).message}\n\n${HELP}`);
      return 2;
    }
    throw error;
  }
}

async function run(command: string, args: readonly string[]): Promise<number> {
  switch (command) {
    case 'start':
      return runStartCommand(args);
    case 'validate':
      return runValidateCommand(args);
    case 'dev': {
      const { runDevCommand } = await import('./commands/dev.js');
      return runDevCommand(args);
    }
    case 'devnet': {
      const { runDevnetCommand } = await import('./commands/devnet.js');
      return runDevnetCommand([...args]);
    }
    case 'pay': {
      const { runPayCommand } = await import('./commands/pay.js');
      return runPayCommand(args);
    }
    case 'ledger': {
      const { runLedgerCommand } = await import('./commands/ledger.js');
      return runLedgerCommand(args);
    }
    case 'facilitator': {
      const { runFacilitatorCommand } = await import('./commands/facilitator.js');
      return runFacilitatorCommand([...args]);
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}
