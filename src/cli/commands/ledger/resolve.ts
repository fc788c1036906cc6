/**
 * `ledger resolve KEY --as settled|failed --note TEXT`: an operator's decision on a record whose
 * settlement nobody knows (settling, unknown), e.g. after reading the chain. It is a
 * compare-and-set from the unresolved states, written with its note as a resolution row (the
 * audit trail), so a record the gateway moved meanwhile is left alone. On Postgres the same
 * compare-and-set runs under the record's row lock (the store the gateways use), so it is safe
 * beside a running fleet.
 */
import { parseArgs } from 'node:util';
import { UNRESOLVED_STATES, type LedgerState } from '../../../ledger/index.js';
import { UsageError } from '../../flags.js';
import { openCommandBook } from './book.js';
import { PATH_OPTIONS, write, type LedgerIo } from './common.js';
import { LedgerProblem } from './problem.js';

const OUTCOMES = ['settled', 'failed'] as const satisfies readonly LedgerState[];
type Outcome = (typeof OUTCOMES)[number];

export async function runResolve(args: readonly string[], io: LedgerIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...PATH_OPTIONS,
      as: { type: 'string' },
      note: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  const [rawKey, ...extra] = positionals;
  if (rawKey === undefined || rawKey.trim() === '') {
    throw new UsageError('resolve needs the replay key of a record');
  }
  if (extra.length > 0) throw new UsageError(`resolve takes one key, not also "${extra[0]}"`);
  const outcome = values.as;
  if (outcome === undefined || !isOutcome(outcome)) {
    throw new UsageError(`resolve needs --as ${OUTCOMES.join('|')}`);
  }
  const note = values.note?.trim();
  if (note === undefined || note === '') {
    throw new UsageError('resolve needs --note TEXT: why (what the chain or the payer showed)');
  }
  // Replay keys are lower case (chainId:asset:from:nonce); a key pasted from a block explorer may not be.
  const key = rawKey.trim().toLowerCase();

  const book = await openCommandBook(values, { readonly: false });
  try {
    const record = await book.get(key);
    if (record === undefined) {
      throw new LedgerProblem(`no record with key ${key} in ${book.location}`);
    }
    if (!UNRESOLVED_STATES.includes(record.state)) {
      throw new LedgerProblem(
        `record ${key} is ${record.state}: only an unresolved record ` +
          `(${UNRESOLVED_STATES.join('|')}) can be resolved`,
      );
    }
    const result = await book.change(
      key,
      UNRESOLVED_STATES,
      { state: outcome, detail: `operator: ${note}` },
      'operator',
      note,
    );
    if (result.kind !== 'changed' || !result.changed) {
      // The gateway (or another operator) moved it between the read and the write.
      const now = result.kind === 'changed' ? result.from : undefined;
      throw new LedgerProblem(
        `record ${key} is no longer unresolved (now ${now ?? 'gone'}): nothing written`,
      );
    }
    await write(io.stdout, `${key}: ${record.state} → ${outcome} (operator: ${note})\n`);
    return 0;
  } finally {
    await book.close();
  }
}

function isOutcome(value: string): value is Outcome {
  return (OUTCOMES as readonly string[]).includes(value);
}
