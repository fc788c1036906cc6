/**
 * What a restart remembers of the book: unresolved payments resume (however old), spent ones stay
 * spent while a replay could still be offered, settled-but-undelivered ones are redeemable within
 * the window (a credit for their payer), and nothing else is loaded. In-memory ledger and the real replay guard.
 */
import { describe, expect, it } from 'vitest';
import type { LedgerState } from '../../../src/ledger/index.js';
import { CreditIndex } from '../../../src/payment/credits.js';
import { RecallIndex } from '../../../src/payment/recall-index.js';
import { restoreFromLedger } from '../../../src/payment/restore.js';
import { InMemoryReplayGuard } from '../../../src/verify/replay.js';
import { attemptOf, paymentFacts } from '../../helpers/ledger-conformance.js';
import { MemoryLedger } from '../../helpers/memory-ledger.js';

const NOW = 1_800_000_000_000;
const NOW_SEC = NOW / 1000;
const HOUR = 3_600_000;

async function book() {
  const ledger = new MemoryLedger();
  await ledger.open();
  const add = async (
    state: LedgerState,
    o: { createdAt: number; validBefore: number; delivered?: boolean; brokenOff?: boolean },
  ) => {
    const f = paymentFacts({ validBefore: o.validBefore });
    await ledger.begin(f, o.createdAt);
    if (state !== 'settling') {
      await ledger.change(f.key, ['settling'], { state, transaction: '0xt', at: o.createdAt });
    }
    if (o.delivered === true)
      ledger.attempt(attemptOf(f.key, { delivered: true, endedAt: o.createdAt }));
    // Served, and its response broke off: the book's proof that it is owed one.
    if (o.brokenOff === true)
      ledger.attempt(attemptOf(f.key, { delivered: false, endedAt: o.createdAt }));
    return f;
  };
  return { ledger, add };
}

describe('restoreFromLedger', () => {
  it('resumes, spends and redeems what it should, and loads nothing else', async () => {
    const { ledger, add } = await book();
    const oldUnknown = await add('unknown', { createdAt: NOW - 30 * 24 * HOUR, validBefore: 1 });
    const liveDelivered = await add('settled', {
      createdAt: NOW - 60_000,
      validBefore: NOW_SEC + 60,
      delivered: true,
    });
    const undelivered = await add('confirmed', {
      createdAt: NOW - 60_000,
      validBefore: NOW_SEC + 60,
      brokenOff: true,
    });
    // Settled by its request, no attempt row: a crash may have lost the row of a delivery.
    const noProof = await add('settled', {
      createdAt: NOW - 30_000,
      validBefore: NOW_SEC + 60,
    });
    const staleUndelivered = await add('settled', { createdAt: NOW - 2 * HOUR, validBefore: 1 });
    const failed = await add('failed', { createdAt: NOW - 60_000, validBefore: NOW_SEC + 60 });
    const oldDelivered = await add('settled', {
      createdAt: NOW - 2 * HOUR,
      validBefore: NOW_SEC - 3_600,
      delivered: true,
    });
    const replay = new InMemoryReplayGuard({ maxEntries: 100, now: () => NOW });
    const recallIndex = new RecallIndex();
    const credits = new CreditIndex(HOUR);
    const { restored } = await restoreFromLedger({
      ledger,
      replay,
      recallIndex,
      credits,
      marginSeconds: 120,
      redeemWindowSeconds: 3_600,
      nowMs: NOW,
    });
    const claim = (f: { key: string; digest: string }) =>
      replay.claim(f.key, () => f.digest, NOW + 600_000).kind;

    expect(claim(oldUnknown)).toBe('resumed'); // a month old: the money may still move
    expect(claim(liveDelivered)).toBe('used');
    expect(claim(undelivered)).toBe('used');
    expect(claim(failed)).toBe('used');
    expect(claim(oldDelivered)).toBe('claimed'); // past validBefore + margin: not held
    expect(claim(staleUndelivered)).toBe('claimed');
    expect(restored).toBe(5);

    const indexed = (f: { nonce: string }) => recallIndex.lookup(f.nonce) !== undefined;
    expect(indexed(oldUnknown)).toBe(true);
    expect(indexed(undelivered)).toBe(true); // redeemable
    expect(indexed(noProof)).toBe(true); // redeemable by its own retry
    expect(indexed(failed)).toBe(true); // its retry hears settlement_failed
    expect(indexed(liveDelivered)).toBe(false);
    expect(indexed(staleUndelivered)).toBe(false); // settled outside the redeem window
    expect(recallIndex.size).toBe(4);

    // Owed a response: the undelivered one in its window, a credit for its payer's next payment;
    // the unknown one may become one if the chain shows it landed.
    expect(credits.unknownOf(undelivered)).toEqual([oldUnknown.key]);
    expect(credits.take(undelivered, NOW)?.key).toBe(undelivered.key);
    expect(credits.take(undelivered, NOW)).toBeUndefined(); // noProof is no credit
  });
});
