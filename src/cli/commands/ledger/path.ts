/**
 * Which ledger a `ledger` subcommand works on: `--ledger PATH` (a SQLite file), else the ledger of
 * the gateway's `--config FILE`: its `ledger.sqlite.path` (resolved against the config file's
 * folder, as the gateway does) or its `ledger.postgres.url` (`${ENV}` expanded by the config
 * loader; shown only without its password).
 */
import {
  formatProblems,
  loadConfigFile,
  type GatewayConfig,
  type LedgerConfig,
} from '../../../config/index.js';
import { redactPostgresUrl } from '../../../ledger/index.js';
import { UsageError } from '../../flags.js';
import { LedgerProblem } from './problem.js';

/** The flags that name the ledger, as parsed by every subcommand. */
export interface LedgerPathArgs {
  /** `--ledger PATH`: the SQLite file itself; wins over `--config`. */
  readonly ledger?: string | undefined;
  /** `--config FILE` (`-c`): the gateway's config, whose `ledger` names the book. */
  readonly config?: string | undefined;
}

/** A ledger the commands can open. */
export type LedgerTarget =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'postgres';
      /** The connection URL, password included: never printed (use `location`). */
      readonly url: string;
      /** The URL without its password, for messages. */
      readonly location: string;
    };

/**
 * Throws a {@link UsageError} (exit 2) when no ledger is named, and a {@link LedgerProblem} (exit 1)
 * when the config is invalid or says `ledger: false`.
 */
export async function ledgerTargetFromArgs(args: LedgerPathArgs): Promise<LedgerTarget> {
  if (args.ledger !== undefined) {
    if (args.ledger.trim() === '') throw new UsageError('--ledger needs a path');
    return { kind: 'sqlite', path: args.ledger };
  }
  if (args.config === undefined) {
    throw new UsageError('ledger commands need --ledger PATH or --config FILE');
  }
  const config = await loadLedgerConfig(args.config);
  return targetOf(config.ledger);
}

/** The book a config's ledger names: its SQLite file, or its Postgres database. */
export function targetOf(ledger: LedgerConfig): LedgerTarget {
  if (ledger.postgres !== undefined) {
    return {
      kind: 'postgres',
      url: ledger.postgres.url,
      location: redactPostgresUrl(ledger.postgres.url),
    };
  }
  return { kind: 'sqlite', path: ledger.sqlite.path };
}

/** How a target is named in messages (a Postgres URL without its password). */
export function targetName(target: LedgerTarget): string {
  return target.kind === 'sqlite' ? target.path : target.location;
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
