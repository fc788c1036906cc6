/**
 * `x402-gateway ledger SUBCOMMAND`: the operator's commands on the book of record, run against
 * the ledger's SQLite file directly (the gateway may be stopped): report, export, resolve, backup,
 * reconcile (which can also ask a running gateway through its admin listener).
 * Each subcommand is a file in ledger/. Exit codes: 0 done, 1 a problem (one line on stderr),
 * 2 a usage error (with the usage text).
 */
import { UsageError } from '../flags.js';
import { runBackup } from './ledger/backup.js';
import { oneLine, type LedgerIo } from './ledger/common.js';
import { runExport } from './ledger/export.js';
import { runReport } from './ledger/report.js';
import { runResolve } from './ledger/resolve.js';
import { LEDGER_USAGE } from './ledger/usage.js';

const SUBCOMMANDS: ReadonlyMap<string, (args: readonly string[], io: LedgerIo) => Promise<number>> =
  new Map([
    ['report', runReport],
    ['export', runExport],
    ['resolve', runResolve],
    ['backup', runBackup],
    // Loaded on demand: it builds chain readers and a reconciler (the gateway's parts).
    [
      'reconcile',
      async (args, io) => (await import('./ledger/reconcile.js')).runReconcile(args, io),
    ],
  ]);

export async function runLedgerCommand(
  args: readonly string[],
  io: LedgerIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [name, ...rest] = args;
  const run = name === undefined ? undefined : SUBCOMMANDS.get(name);
  if (run === undefined) {
    const why =
      name === undefined || name.startsWith('-')
        ? 'ledger needs a subcommand'
        : `unknown ledger subcommand "${name}"`;
    io.stderr.write(`${why}\n\n${LEDGER_USAGE}`);
    return 2;
  }
  try {
    return await run(rest, io);
  } catch (error) {
    if (isUsageError(error)) {
      io.stderr.write(`ledger ${name}: ${(error as Error).message}\n\n${LEDGER_USAGE}`);
      return 2;
    }
    // A problem (LedgerProblem), or SQLite's or the file system's: one line, exit 1.
    io.stderr.write(`ledger ${name}: ${oneLine(error)}\n`);
    return 1;
  }
}

/** Ours, or parseArgs' (an unknown flag, a missing value: ERR_PARSE_ARGS_*). */
function isUsageError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return (
    error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
  );
}
