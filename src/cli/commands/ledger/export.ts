/**
 * `ledger export`: every record, one per line (CSV with a header row, or JSON Lines), oldest
 * first, streamed from the book one record at a time at the pace the output drains.
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { LedgerRecord } from '../../../ledger/index.js';
import { UsageError } from '../../flags.js';
import { openCommandBook } from './book.js';
import { oneLine, parseSince, PATH_OPTIONS, write, type LedgerIo } from './common.js';
import { csvLine } from './format.js';
import { LedgerProblem } from './problem.js';

/** Every field of a record, in the order of the columns (the compiler keeps it complete). */
const FIELDS = {
  key: true,
  state: true,
  digest: true,
  x402Version: true,
  route: true,
  method: true,
  path: true,
  network: true,
  asset: true,
  decimals: true,
  payTo: true,
  payer: true,
  amount: true,
  nonce: true,
  validBefore: true,
  request: true,
  transaction: true,
  createdAt: true,
  updatedAt: true,
  settledAt: true,
  confirmedAt: true,
  deliveredAt: true,
  redemptions: true,
  detail: true,
  owner: true,
} as const satisfies Record<keyof LedgerRecord, true>;

/**
 * The export's columns: the record's fields by name. Amounts are atomic units as decimal text
 * (a string in JSON, never a number), times unix ms; an absent value is empty (CSV) or null (JSON).
 */
export const EXPORT_COLUMNS = Object.keys(FIELDS) as ReadonlyArray<keyof LedgerRecord>;

const FORMATS = ['csv', 'jsonl'] as const;
type Format = (typeof FORMATS)[number];

/** Output is gathered into chunks of about this many characters before each write. */
const CHUNK = 64 * 1024;

export async function runExport(args: readonly string[], io: LedgerIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...PATH_OPTIONS,
      format: { type: 'string' },
      since: { type: 'string' },
      out: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`export takes no argument: "${positionals[0]}"`);
  const format = values.format;
  if (format === undefined) throw new UsageError('export needs --format csv|jsonl');
  if (!isFormat(format)) throw new UsageError(`--format must be csv or jsonl, not "${format}"`);
  const since = parseSince(values.since, Date.now());
  if (values.out !== undefined && values.out.trim() === '')
    throw new UsageError('--out needs a path');

  const book = await openCommandBook(values, { readonly: true });
  try {
    const records = book.records(since);
    if (values.out === undefined) {
      try {
        await writeRecords(records, format, io.stdout);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
          throw new LedgerProblem('the output was closed before the export ended (EPIPE)');
        }
        throw error;
      }
      return 0;
    }
    const out = await createFile(values.out);
    let count: number;
    try {
      count = await writeRecords(records, format, out);
      out.end();
      await once(out, 'close');
    } catch (error) {
      out.destroy();
      fs.rmSync(values.out, { force: true });
      throw new LedgerProblem(`export to ${values.out} failed (file removed): ${oneLine(error)}`);
    }
    await write(io.stdout, `exported ${count} record${count === 1 ? '' : 's'} to ${values.out}\n`);
    return 0;
  } finally {
    await book.close();
  }
}

function isFormat(value: string): value is Format {
  return (FORMATS as readonly string[]).includes(value);
}

/** A new file at `path`, never an existing one (exclusive create). */
async function createFile(path: string): Promise<fs.WriteStream> {
  const out = fs.createWriteStream(path, { flags: 'wx' });
  try {
    await once(out, 'open');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new LedgerProblem(`${path} already exists: refusing to overwrite it`);
    }
    throw new LedgerProblem(`cannot create ${path}: ${oneLine(error)}`);
  }
  return out;
}

/** Write the header (CSV) and every record; resolves with the number of records. */
async function writeRecords(
  records: Iterable<LedgerRecord> | AsyncIterable<LedgerRecord>,
  format: Format,
  out: NodeJS.WritableStream,
): Promise<number> {
  const line = format === 'csv' ? csvRecord : jsonRecord;
  // An output that fails (a closed pipe, a full disk) is an error event: stop at the next write.
  let failed: Error | undefined;
  const onError = (error: Error) => (failed ??= error);
  const check = () => {
    if (failed !== undefined) throw failed;
  };
  out.on('error', onError);
  try {
    let chunk = format === 'csv' ? csvLine(EXPORT_COLUMNS) : '';
    let count = 0;
    for await (const r of records) {
      chunk += line(r);
      count += 1;
      if (chunk.length >= CHUNK) {
        check();
        await write(out, chunk);
        chunk = '';
      }
    }
    check();
    if (chunk !== '') await write(out, chunk);
    // A failed last write reports its error on a later tick.
    await new Promise((resolve) => setImmediate(resolve));
    check();
    return count;
  } finally {
    out.off('error', onError);
  }
}

function csvRecord(r: LedgerRecord): string {
  return csvLine(EXPORT_COLUMNS.map((c) => r[c]));
}

function jsonRecord(r: LedgerRecord): string {
  const row: Record<string, string | number | null> = {};
  for (const c of EXPORT_COLUMNS) row[c] = r[c] ?? null;
  return `${JSON.stringify(row)}\n`;
}
