/**
 * The book a `ledger` subcommand reads and writes, whichever store holds it: a SQLite file (opened
 * directly, read-only unless the command writes) or a Postgres database (through PostgresLedger,
 * the store the gateways use, so every read and write means what it means for them). The commands
 * see one shape: records streamed oldest first, a filtered list, one record, and a compare-and-set
 * change with its resolution row.
 */
import {
  PostgresLedger,
  SqliteBook,
  type LedgerRecord,
  type LedgerState,
  type RecordFilter,
  type Resolution,
  type StateChange,
  type WriteResult,
} from '../../../ledger/index.js';
import { assertLedgerFile, oneLine } from './common.js';
import { ledgerTargetFromArgs, type LedgerPathArgs, type LedgerTarget } from './path.js';
import { LedgerProblem } from './problem.js';

export interface CommandBook {
  /** Where it is, for messages: the file's path, or the database URL without its password. */
  readonly location: string;
  /** Every record created at or after `since`, oldest first, one at a time. */
  records(since: number | undefined): Iterable<LedgerRecord> | AsyncIterable<LedgerRecord>;
  list(filter: RecordFilter): Promise<LedgerRecord[]>;
  get(key: string): Promise<LedgerRecord | undefined>;
  resolutions(key: string): Promise<Resolution[]>;
  /**
   * A compare-and-set: moves the record only if it is in one of `from`, with a resolution row in
   * the same transaction. A {@link LedgerProblem} when the book cannot be written.
   */
  change(
    key: string,
    from: readonly LedgerState[],
    change: StateChange,
    by: Resolution['by'],
    note: string,
  ): Promise<WriteResult>;
  close(): Promise<void>;
}

/** Open the book the flags name (a {@link LedgerProblem} when it is not there or cannot be read). */
export async function openCommandBook(
  args: LedgerPathArgs,
  options: { readonly readonly: boolean },
): Promise<CommandBook> {
  return openTarget(await ledgerTargetFromArgs(args), options);
}

export async function openTarget(
  target: LedgerTarget,
  options: { readonly readonly: boolean },
): Promise<CommandBook> {
  return target.kind === 'sqlite'
    ? sqliteBook(target.path, options.readonly)
    : postgresBook(target.url, target.location);
}

/**
 * A SQLite ledger file. It must exist: a writable open of a missing path would create an empty
 * ledger, and a report on it would say "nothing" where it should say "wrong file".
 */
export function openSqliteFile(path: string, readonly: boolean): SqliteBook {
  assertLedgerFile(path);
  try {
    return new SqliteBook(path, { readonly });
  } catch (error) {
    throw new LedgerProblem(`cannot open the ledger at ${path}: ${oneLine(error)}`);
  }
}

function sqliteBook(path: string, readonly: boolean): CommandBook {
  const book = openSqliteFile(path, readonly);
  return {
    location: path,
    records: (since) => book.iterate(since === undefined ? {} : { since }),
    list: (filter) => Promise.resolve(book.list(filter)),
    get: (key) => Promise.resolve(book.get(key)),
    resolutions: (key) => Promise.resolve(book.resolutions(key)),
    change(key, from, change, by, note) {
      const [result] = book.write([{ op: 'change', key, from, change, by, note }]);
      if (result === undefined || result instanceof Error) {
        return Promise.reject(
          new LedgerProblem(`could not write to ${path}: ${oneLine(result ?? 'no answer')}`),
        );
      }
      return Promise.resolve(result);
    },
    close: () => Promise.resolve(book.close()),
  };
}

/**
 * A Postgres book beside running gateways: a small pool, the schema never migrated (a database
 * without this version's schema is refused), no heartbeat row (a command is no instance). Every
 * write is the store's own compare-and-set, so a record a gateway moves meanwhile is left alone.
 */
async function postgresBook(url: string, location: string): Promise<CommandBook> {
  const ledger = new PostgresLedger({ url, maxConnections: 2, migrate: false });
  try {
    await ledger.open();
  } catch (error) {
    throw new LedgerProblem(oneLine(error));
  }
  const problem = (error: unknown) => new LedgerProblem(oneLine(error));
  return {
    location,
    records: (since) => guarded(ledger.iterate(since === undefined ? {} : { since }), problem),
    list: (filter) => ledger.list(filter).catch((e: unknown) => Promise.reject(problem(e))),
    get: (key) => ledger.get(key).catch((e: unknown) => Promise.reject(problem(e))),
    resolutions: (key) => ledger.resolutions(key).catch((e: unknown) => Promise.reject(problem(e))),
    change: (key, from, change, by, note) =>
      ledger
        .change(key, from, change, by, note)
        .catch((e: unknown) =>
          Promise.reject(new LedgerProblem(`could not write to ${location}: ${oneLine(e)}`)),
        ),
    close: () => ledger.close(),
  };
}

/** The records, with a failed read turned into a {@link LedgerProblem}. */
async function* guarded(
  records: AsyncIterable<LedgerRecord>,
  problem: (error: unknown) => LedgerProblem,
): AsyncGenerator<LedgerRecord> {
  try {
    yield* records;
  } catch (error) {
    throw problem(error);
  }
}
