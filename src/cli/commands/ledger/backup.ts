/**
 * `ledger backup PATH`: a consistent copy of the ledger through SQLite's online backup API, safe
 * while a gateway writes (the copy is one snapshot of committed transactions). PATH must not exist:
 * it is created exclusively first, so a backup never overwrites a file, even one made meanwhile.
 * A ledger in Postgres is refused (exit 2): its database is backed up with Postgres's own tools,
 * which see every instance's writes in one snapshot.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from '../../flags.js';
import { openSqliteFile } from './book.js';
import { oneLine, PATH_OPTIONS, write, type LedgerIo } from './common.js';
import { ledgerTargetFromArgs } from './path.js';
import { LedgerProblem } from './problem.js';

export async function runBackup(args: readonly string[], io: LedgerIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { ...PATH_OPTIONS },
    strict: true,
    allowPositionals: true,
  });
  const [target, ...extra] = positionals;
  if (target === undefined || target.trim() === '') {
    throw new UsageError('backup needs the PATH of the copy');
  }
  if (extra.length > 0) throw new UsageError(`backup takes one PATH, not also "${extra[0]}"`);
  // better-sqlite3 trims the name it is given: the file reserved must be the one written.
  if (target !== target.trim())
    throw new UsageError('backup PATH must not start or end with a space');

  const ledger = await ledgerTargetFromArgs(values);
  if (ledger.kind === 'postgres') {
    // The URL shown has no password: pg_dump takes it from PGPASSWORD or ~/.pgpass.
    throw new UsageError(
      `the ledger is in Postgres (${ledger.location}): back up its database with pg_dump, ` +
        `e.g. pg_dump --format=custom --file=${target} '${ledger.location}' (the password from ` +
        "PGPASSWORD or ~/.pgpass), or the server's base backups and WAL archiving; restore with pg_restore",
    );
  }
  const path = ledger.path;
  // Read-only: a backup never migrates, nor writes anything to, the ledger it copies.
  const book = openSqliteFile(path, true);
  try {
    try {
      fs.closeSync(fs.openSync(target, 'wx'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new LedgerProblem(`${target} already exists: refusing to overwrite it`);
      }
      throw new LedgerProblem(`cannot create ${target}: ${oneLine(error)}`);
    }
    try {
      await book.backup(target);
    } catch (error) {
      fs.rmSync(target, { force: true });
      throw new LedgerProblem(`backup of ${path} to ${target} failed: ${oneLine(error)}`);
    }
    const bytes = fs.statSync(target).size;
    await write(io.stdout, `backed up ${path} to ${target} (${bytes} bytes)\n`);
    return 0;
  } finally {
    book.close();
  }
}
