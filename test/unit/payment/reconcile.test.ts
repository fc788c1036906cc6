/**
 * The reconciler, table-driven against the in-memory ledger and a scripted chain reader (fakes
 * inside a unit test; the devnet e2e in test/e2e/gateway/crash-recovery.test.ts is the proof on
 * real parts): what each chain verdict does to each record state, revenue counted once, the replay
 * guard and the recall index kept in step, and networks without an RPC left alone.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ChainReader, SettledVerdict, TransferVerdict } from '../../../src/chains/index.js';
import type { LedgerRecord, LedgerState } from '../../../src/ledger/index.js';
import { CreditIndex } from '../../../src/payment/credits.js';
import { RecallIndex } from '../../../src/payment/recall-index.js';
import { Reconciler, type ReconcileOutcome } from '../../../src/payment/reconcile.js';
import { InMemoryReplayGuard } from '../../../src/verify/replay.js';
import { paymentFacts, T0 } from '../../helpers/ledger-conformance.js';
import { MemoryLedger } from '../../helpers/memory-ledger.js';

const TX = `0x${'cd'.repeat(32)}`;
const NET = 'eip155:84532';

function chain(
  transfer: TransferVerdict,
  settled: SettledVerdict,
): ChainReader & { asked: number } {
  const reader = {
    asked: 0,
    checkTransfer: () => {
      reader.asked++;
      return Promise.resolve(transfer);
    },
    checkSettled: () => {
      reader.asked++;
      return Promise.resolve(settled);
    },
  };
  return reader;
}

async function setup(
  state: LedgerState,
  reader: ChainReader | undefined,
  opts: { network?: string; updatedAt?: number } = {},
) {
  const ledger = new MemoryLedger();
  await ledger.open();
  const facts = paymentFacts({ network: opts.network ?? NET });
  await ledger.begin(facts, opts.updatedAt ?? T0);
  if (state !== 'settling') {
    const via: LedgerState[] = state === 'confirmed' || state === 'disputed' ? ['settled'] : [];
    for (const s of [...via, state]) {
      await ledger.change(facts.key, ['settling', 'settled'], {
        state: s,
        transaction: TX,
        at: T0,
      });
    }
  }
  const replay = new InMemoryReplayGuard({ maxEntries: 10 });
  replay.claim(facts.key, () => facts.digest, Date.now() + 600_000);
  replay.markPending(facts.key, undefined, facts.digest);
  const recallIndex = new RecallIndex();
  const credits = new CreditIndex(3_600_000);
  const terms = { ...facts };
  credits.addUnknown(terms, facts.key);
  const settled: LedgerRecord[] = [];
  const outcomes: ReconcileOutcome[] = [];
  const reconciler = new Reconciler({
    ledger,
    chains: new Map(reader === undefined ? [] : [[NET, reader]]),
    confirmations: 2,
    settlingGraceMs: 60_000,
    recallIndex,
    credits,
    replay,
    log: pino({ level: 'silent' }),
    onSettled: (r) => settled.push(r),
    onOutcome: (o) => outcomes.push(o),
    now: () => T0 + 1_000,
  });
  const retry = () => replay.claim(facts.key, () => facts.digest, Date.now() + 600_000);
  return { ledger, facts, reconciler, settled, outcomes, recallIndex, credits, terms, retry };
}

const LANDED: TransferVerdict = { kind: 'landed', transaction: TX as `0x${string}` };
const FAILED: TransferVerdict = { kind: 'failed', detail: 'the payer canceled the authorization' };
const OPEN: TransferVerdict = { kind: 'open', detail: 'the nonce is unused' };
const UNKNOWN: TransferVerdict = { kind: 'unknown', detail: 'rpc down' };
const CONFIRMED: SettledVerdict = {
  kind: 'confirmed',
  transaction: TX as `0x${string}`,
  confirmations: 2n,
};
const WAITING: SettledVerdict = { kind: 'waiting', confirmations: 1n };
const DISPUTED: SettledVerdict = { kind: 'disputed', detail: 'reverted' };

describe('Reconciler: unresolved records', () => {
  it.each([
    ['unknown', LANDED, 'settled', 'settled'],
    ['unknown', FAILED, 'failed', 'failed'],
    ['unknown', OPEN, 'unknown', 'unresolved'],
    ['unknown', UNKNOWN, 'unknown', 'unresolved'],
    ['settling', LANDED, 'settled', 'settled'],
    ['settling', OPEN, 'unknown', 'unresolved'],
  ] as const)('%s + chain %o → %s', async (from, verdict, to, outcome) => {
    const s = await setup(from, chain(verdict, WAITING));
    const summary = await s.reconciler.pass({ startup: true });
    expect((await s.ledger.get(s.facts.key))?.state).toBe(to);
    expect(summary[outcome]).toBe(1);
    expect(s.outcomes).toEqual([outcome]);
    // Revenue exactly when the record moved to settled; a second pass adds nothing.
    expect(s.settled).toHaveLength(to === 'settled' ? 1 : 0);
    await s.reconciler.pass({ startup: true });
    expect(s.settled).toHaveLength(to === 'settled' ? 1 : 0);
    // Spent in the guard once the chain decided; the retry is the book's to answer.
    expect(s.retry().kind).toBe(to === 'unknown' ? 'resumed' : 'used');
    expect(s.recallIndex.lookup(s.facts.nonce)).toBe(to === 'unknown' ? undefined : s.facts.key);
    // Settled here and never delivered: its payer's next new payment is served through it.
    expect(s.credits.take(s.terms, T0 + 2_000)?.key).toBe(
      to === 'settled' ? s.facts.key : undefined,
    );
    expect(s.credits.unknownOf(s.terms)).toEqual(to === 'unknown' ? [s.facts.key] : []);
  });

  it.each([
    ['unknown', LANDED, 'settled'],
    ['unknown', FAILED, 'failed'],
    ['unknown', OPEN, 'unresolved'],
  ] as const)('resolve(key): one %s record now, chain %o → %s', async (from, verdict, outcome) => {
    const s = await setup(from, chain(verdict, WAITING));
    expect(await s.reconciler.resolve(s.facts.key)).toBe(outcome);
    expect(s.outcomes).toEqual([outcome]);
    expect(s.settled).toHaveLength(outcome === 'settled' ? 1 : 0);
  });

  it('resolve(key) leaves a settling record to its request, and visits nothing else', async () => {
    const reader = chain(LANDED, WAITING);
    const s = await setup('settling', reader);
    expect(await s.reconciler.resolve(s.facts.key)).toBeUndefined();
    expect(await s.reconciler.resolve('84532:0x0:0x0:0x0')).toBeUndefined();
    expect(reader.asked).toBe(0);
    expect((await s.ledger.get(s.facts.key))?.state).toBe('settling');
  });

  it('leaves a young settling record alone outside start-up (its request may hold it)', async () => {
    const s = await setup('settling', chain(LANDED, WAITING), { updatedAt: T0 + 500 });
    await s.reconciler.pass();
    expect((await s.ledger.get(s.facts.key))?.state).toBe('settling');
    await s.reconciler.pass({ startup: true });
    expect((await s.ledger.get(s.facts.key))?.state).toBe('settled');
  });

  it('a network without an RPC: no_rpc, nothing changes', async () => {
    const s = await setup('unknown', undefined);
    expect((await s.reconciler.pass()).no_rpc).toBe(1);
    expect((await s.ledger.get(s.facts.key))?.state).toBe('unknown');
  });
});

describe('Reconciler: settled records', () => {
  it.each([
    [CONFIRMED, 'confirmed', 'confirmed'],
    [WAITING, 'settled', 'waiting'],
    [DISPUTED, 'disputed', 'disputed'],
  ] as const)('chain %o → %s', async (verdict, to, outcome) => {
    const s = await setup('settled', chain(UNKNOWN, verdict));
    expect((await s.reconciler.pass())[outcome]).toBe(1);
    expect((await s.ledger.get(s.facts.key))?.state).toBe(to);
    expect(s.settled).toHaveLength(0); // counted when it settled, never again
  });

  it('settled records on a network without an RPC are not even read', async () => {
    const reader = chain(UNKNOWN, CONFIRMED);
    const s = await setup('settled', reader, { network: 'eip155:8453' });
    const summary = await s.reconciler.pass();
    expect(Object.values(summary).reduce((a, b) => a + b, 0)).toBe(0);
    expect(reader.asked).toBe(0);
  });
});
