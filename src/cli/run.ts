/**
 * Command line: argv → the command it names (commands/) → its exit code. Commands other than
 * start and validate are loaded on demand, so serving never loads the devnet, the official
 * client or the ledger commands (their help text is apart: commands/ledger/usage.ts). main.ts
 * turns the code into the process exit (the only place that calls process.exit).
 */
import { runStartCommand } from './commands/start.js';
import { runValidateCommand } from './commands/validate.js';
import { LEDGER_HELP, LEDGER_SYNOPSIS } from './commands/ledger/usage.js';
import { UsageError } from './flags.js';

const HELP = `x402-gateway — pay-per-call (x402) reverse proxy

Usage:
  x402-gateway [start] --config FILE [--ledger PATH]
                                         start the gateway (--ledger: the book's file, instead of
                                         the config's ledger.sqlite.path)
  x402-gateway validate --config FILE    check a config file: print every problem, exit 1; or exit 0
  x402-gateway facilitator --rpc URL --key KEY [--port N] [--host H]
                                         serve the built-in facilitator over HTTP (/verify, /settle, /supported)
  x402-gateway dev [--config FILE] [--ledger PATH]
                                         npm start: local devnet + built-in facilitator + demo API +
                                         gateway, on a fresh ledger in a temporary folder (printed)
  x402-gateway devnet [--chain base-sepolia|base] [--port N] [--facilitator-port N]
                                         only the local devnet (anvil with EIP-3009 USDC), printed details
  x402-gateway pay URL [--key K] [--rpc URL] [--max AMOUNT] [--v1]
                                         pay for one call as a client and show the receipt and balances
  x402-gateway ledger report|export|resolve|backup|reconcile (--ledger PATH | --config FILE) …
  x402-gateway ledger reconcile --admin URL
                                         the book of record: reports, exports, an operator's
                                         resolution, online backup, a reconciliation pass with the
                                         chain (offline, or by a running gateway; see "Ledger" below)
  x402-gateway --help                    this text

Options:
  -c, --config FILE   YAML config (see gateway.example.yaml); \${ENV} references are interpolated,
                      an unset variable is an error
  -h, --help          show this help

Signals: SIGTERM/SIGINT stop accepting, let in-flight requests and settlements finish
(server.shutdownTimeoutMs), then exit 0.

Ledger, the book of record (${LEDGER_SYNOPSIS}):
${LEDGER_HELP}`;

export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  const command = first === undefined || first.startsWith('-') ? 'start' : first;
  const args = command === first ? rest : [...argv];
  if (args.includes('--help') || args.includes('-h') || command === 'help') {
    process.stdout.write(HELP);
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
