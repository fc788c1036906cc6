/**
 * Command line: argv → config → gateway; signals. The only module that may call process.exit.
 */
import { parseArgs } from 'node:util';
import { formatProblems, loadConfigFile } from './config/index.js';
import { startGateway, type RunningGateway } from './server.js';
import { isFault, waitForStop } from './stop-signal.js';

const HELP = `x402-gateway — pay-per-call (x402) reverse proxy

Usage:
  x402-gateway [start] --config FILE     start the gateway
  x402-gateway validate --config FILE    check a config file: print every problem, exit 1; or exit 0
  x402-gateway facilitator --rpc URL --key KEY [--port N] [--host H]
                                         serve the built-in facilitator over HTTP (/verify, /settle, /supported)
  x402-gateway dev [--config FILE]       npm start: local devnet + built-in facilitator + demo API + gateway
  x402-gateway devnet [--chain base-sepolia|base] [--port N] [--facilitator-port N]
                                         only the local devnet (anvil with EIP-3009 USDC), printed details
  x402-gateway pay URL [--key K] [--rpc URL] [--max AMOUNT] [--v1]
                                         pay for one call as a client and show the receipt and balances
  x402-gateway --help                    this text

Options:
  -c, --config FILE   YAML config (see gateway.example.yaml); \${ENV} references are interpolated,
                      an unset variable is an error
  -h, --help          show this help

Signals: SIGTERM/SIGINT stop accepting, let in-flight requests and settlements finish
(server.shutdownTimeoutMs), then exit 0.
`;

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
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n\n${HELP}`);
      return 2;
    }
    throw error;
  }
}

async function run(command: string, args: readonly string[]): Promise<number> {
  switch (command) {
    case 'start':
      return start(args);
    case 'validate':
      return validate(args);
    case 'dev': {
      const { runDevCommand } = await import('./dev/cli.js');
      return runDevCommand(args);
    }
    case 'devnet': {
      const { runDevnetCommand } = await import('./devnet/cli.js');
      return runDevnetCommand([...args]);
    }
    case 'pay': {
      const { runPayCommand } = await import('./dev/pay.js');
      return runPayCommand(args);
    }
    case 'facilitator': {
      const { runFacilitatorCommand } = await import('./facilitator/cli.js');
      return runFacilitatorCommand([...args]);
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

function configPath(args: readonly string[]): string | undefined {
  const { values } = parseArgs({
    args: [...args],
    options: { config: { type: 'string', short: 'c' } },
    strict: true,
    allowPositionals: false,
  });
  return values.config;
}

async function validate(args: readonly string[]): Promise<number> {
  const path = configPath(args);
  if (path === undefined) {
    process.stderr.write('validate needs --config FILE\n');
    return 2;
  }
  const result = await loadConfigFile(path, process.env);
  if (!result.ok) {
    process.stderr.write(`${formatProblems(result.problems, path)}\n`);
    process.stderr.write(`${result.problems.length} problem(s) in ${path}\n`);
    return 1;
  }
  process.stdout.write(`${path}: ok (${result.config.routes.length} routes)\n`);
  return 0;
}

async function start(args: readonly string[]): Promise<number> {
  const path = configPath(args);
  if (path === undefined) {
    process.stderr.write('start needs --config FILE (see --help)\n');
    return 2;
  }
  const result = await loadConfigFile(path, process.env);
  if (!result.ok) {
    process.stderr.write(`${formatProblems(result.problems, path)}\n`);
    return 1;
  }
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(result.config);
  } catch (error) {
    // e.g. an anvil test key pointed at a real chain, an RPC that does not answer, a port in use.
    process.stderr.write(`x402-gateway: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  process.stdout.write(`x402-gateway listening on ${gateway.url} (admin ${gateway.adminUrl})\n`);
  const log = gateway.parts.deps.log;
  const stoppedBy = await waitForStop(undefined, (fault, error) => {
    log.error({ fault, err: error }, 'bug: a fault escaped every handler; draining in-flight requests, then exiting');
  });
  log.info({ signal: stoppedBy }, 'shutting down');
  try {
    await gateway.close();
    return isFault(stoppedBy) ? 1 : 0;
  } catch {
    return 1;
  }
}
