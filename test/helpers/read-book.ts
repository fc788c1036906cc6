/**
 * Read a gateway's SQLite ledger from a test, beside the running gateway: a read-only connection
 * (WAL readers never block the writer), closed whatever the read throws.
 */
import { SqliteBook, type LedgerRecord } from '../../src/ledger/index.js';

/** `read` on a read-only connection to the book at `path`; by default every record. */
export function readBook(path: string): LedgerRecord[];
export function readBook<T>(path: string, read: (book: SqliteBook) => T): T;
export function readBook<T>(path: string, read?: (book: SqliteBook) => T): T | LedgerRecord[] {
  const book = new SqliteBook(path, { readonly: true });
  try {
    return read === undefined ? book.list() : read(book);
  } finally {
    book.close();
  }
}
