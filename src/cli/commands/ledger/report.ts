/**
 * `ledger report`: count and amount per group (state, route, day or payer), network and asset;
 * or, with `--state undelivered`, the paid payments never delivered (refund candidates).
 * Amounts are summed as BigInt and printed in atomic units and in token units (report-data.ts,
 * report-text.ts).
 */
import { parseArgs } from 'node:util';
import { LEDGER_STATES, PAID_STATES, type LedgerState } from '../../../ledger/index.js';
import { UsageError } from '../../flags.js';
import { openCommandBook } from './book.js';
import { isoTime, parseSince, PATH_OPTIONS, write, type LedgerIo } from './common.js';
import { GROUPINGS, groupReport, undeliveredReport, type Grouping } from './report-data.js';
import { groupText, undeliveredText } from './report-text.js';

export async function runReport(args: readonly string[], io: LedgerIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...PATH_OPTIONS,
      since: { type: 'string' },
      by: { type: 'string' },
      state: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`report takes no argument: "${positionals[0]}"`);
  const since = parseSince(values.since, Date.now());
  const by = values.by ?? 'state';
  if (!isGrouping(by)) throw new UsageError(`--by must be one of ${GROUPINGS.join('|')}`);
  const state = values.state;
  if (state === 'undelivered') {
    if (values.by !== undefined) throw new UsageError('--by does not apply to --state undelivered');
  } else if (state !== undefined && !isState(state)) {
    throw new UsageError(`--state must be one of ${LEDGER_STATES.join('|')}|undelivered`);
  }

  const book = await openCommandBook(values, { readonly: true });
  try {
    const sinceIso = since === undefined ? null : isoTime(since);
    if (state === 'undelivered') {
      const records = await book.list({
        undelivered: true,
        ...(since === undefined ? {} : { since }),
      });
      const report = undeliveredReport(records, book.location, sinceIso);
      await write(io.stdout, values.json ? json(report) : undeliveredText(report));
    } else {
      // Money of different states is never summed together by default: by state, each state is
      // its own group; by anything else, only the paid records count unless --state names one.
      const states = state !== undefined ? [state] : by === 'state' ? LEDGER_STATES : PAID_STATES;
      const report = await groupReport(book.records(since), book.location, sinceIso, by, states);
      await write(io.stdout, values.json ? json(report) : groupText(report));
    }
  } finally {
    await book.close();
  }
  return 0;
}

function isGrouping(value: string): value is Grouping {
  return (GROUPINGS as readonly string[]).includes(value);
}

function isState(value: string): value is LedgerState {
  return (LEDGER_STATES as readonly string[]).includes(value);
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
