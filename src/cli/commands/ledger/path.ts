/**
 * Which ledger file a `ledger` subcommand works on: `--ledger PATH`, else the `ledger.sqlite.path`
 * of the gateway's `--config FILE` (resolved against the config file's folder, as the gateway does).
 */
import {
  formatProblems,
  loadConfigFile,
  type GatewayConfig,
  type LedgerConfig,
} from '../../../config/index.js';
import { UsageError } from '../../flags.js';
import { LedgerProblem } from './problem.js';

/** The flags that name the ledger file, as parsed by every subcommand. */
export interface LedgerPathArgs {
  /** `--ledger PATH`: the SQLite file itself; wins over `--config`. */
  readonly ledger?: string | undefined;
  /** `--config FILE` (`-c`): the gateway's config, whose `ledger.sqlite.path` names the file. */
  readonly config?: string | undefined;
}

/**
 * Throws a {@link UsageError} (exit 2) when no ledger is named, and a {@link LedgerProblem} (exit 1)
 * when the config is invalid or says `ledger: false`.
 */
export async function ledgerPathFromArgs(args: LedgerPathArgs): Promise<string> {
  if (args.ledger !== undefined) {
    if (args.ledger.trim() === '') throw new UsageError('--ledger needs a path');
    return args.ledger;
  }
  if (args.config === undefined) {
    throw new UsageError('ledger commands need --ledger PATH or --config FILE');
  }
  const config = await loadLedgerConfig(args.config);
  return sqlitePathOf(config.ledger, args.config);
}

/**
 * The SQLite file of a config's ledger. The `ledger` commands open that file directly; a ledger in
 * Postgres (`ledger.postgres`) is not supported by them yet: a {@link UsageError} (exit 2) says so.
 */
export function sqlitePathOf(ledger: LedgerConfig, file: string): string {
  if (ledger.sqlite === undefined) {
    throw new UsageError(
      `${file} keeps its ledger in Postgres (ledger.postgres): the ledger commands read a SQLite file and do not support Postgres yet (query the database with psql, back it up with pg_dump; a running gateway reconciles with POST /ledger/reconcile on its admin listener)`,
    );
  }
  return ledger.sqlite.path;
}

/**
 * The gateway's config `file`, with its ledger; a {@link LedgerProblem} (exit 1) when it is invalid
 * or says `ledger: false`.
 */
export async function loadLedgerConfig(
  file: string,
): Promise<GatewayConfig & { readonly ledger: LedgerConfig }> {
  const loaded = await loadConfigFile(file, process.env);
  if (!loaded.ok) throw new LedgerProblem(formatProblems(loaded.problems, file));
  const { config } = loaded;
  if (config.ledger === false) {
    throw new LedgerProblem(`${file} says ledger: false: there is no ledger to read`);
  }
  return { ...config, ledger: config.ledger };
}
