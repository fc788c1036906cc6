/**
 * What the `ledger` subcommands share: the flags naming the ledger, `--since`, and writing to a
 * stream at the pace it drains (opening the book: book.ts).
 */
import fs from 'node:fs';
import { once } from 'node:events';
import { UsageError } from '../../flags.js';
import { LedgerProblem } from './problem.js';

/** Where a subcommand writes: stdout for its output, stderr for problems. */
export interface LedgerIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** The parseArgs options every subcommand takes (the ledger). */
export const PATH_OPTIONS = {
  ledger: { type: 'string' },
  config: { type: 'string', short: 'c' },
} as const;

const UNIT_MS: Readonly<Record<string, number>> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * `--since`: an ISO date (`2025-01-31`, UTC midnight) or date-time, or a duration back from `now`
 * (`90m`, `24h`, `7d`, `2w`); unix ms, or undefined when absent.
 */
export function parseSince(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const duration = /^(\d{1,9})([mhdw])$/.exec(value);
  if (duration !== null) return now - Number(duration[1]) * UNIT_MS[duration[2]!]!;
  const date = /^(\d{4})-(\d{2})-(\d{2})([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.exec(value);
  if (date !== null) {
    const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
    // Date.parse rolls 2025-02-30 over to March 2: a day past the month's end is refused.
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const at = Date.parse(value);
    if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && Number.isFinite(at)) {
      return at;
    }
  }
  throw new UsageError(
    `--since must be an ISO date (2025-01-31, 2025-01-31T12:00:00Z) or a duration (90m, 24h, 7d, 2w), not "${value}"`,
  );
}

/** A {@link LedgerProblem} unless `path` is an existing file (never create an empty ledger). */
export function assertLedgerFile(path: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(path);
  } catch {
    throw new LedgerProblem(`no ledger at ${path}: the file does not exist`);
  }
  if (!stat.isFile()) throw new LedgerProblem(`no ledger at ${path}: not a file`);
}

/** Write a chunk, waiting for the stream to drain when its buffer is full. */
export async function write(stream: NodeJS.WritableStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

/** An error's message on one line. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** Unix ms → ISO 8601 (UTC), or '' when absent. */
export function isoTime(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString();
}
