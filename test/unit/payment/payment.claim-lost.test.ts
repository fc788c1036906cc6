/**
 * A shared replay store's last word before a settle request: the payment asks the guard whether it
 * still holds its claim (`ReplayGuard.settling`). Lost (taken over after its lease) or unanswered:
 * the payment rejects with ClaimLostError before the book is written or anything is sent, and stays
 * `forwarded` for the caller to release. Held: the write-ahead goes on as with the in-memory guard.
 */
import { describe, expect, it } from 'vitest';
import { ClaimLostError, Payment } from '../../../src/payment/payment.js';
import { LruVerifyCache } from '../../../src/verify/cache.js';
import { InMemoryReplayGuard } from '../../../src/verify/replay.js';
import type { ReplayGuard } from '../../../src/verify/types.js';
import { MemoryLedger } from '../../helpers/memory-ledger.js';
import {
  PAYMENT_DIGEST as DIGEST,
  PAYMENT_FACTS as FACTS,
  PAYMENT_KEY as KEY,
} from '../../helpers/payment-facts.js';

async function forwarded(answer: boolean | Promise<boolean>) {
  const inner = new InMemoryReplayGuard({ maxEntries: 10 });
  const asked: string[] = [];
  const replay: ReplayGuard = {
    claim: (k, d, e) => inner.claim(k, d, e),
    release: (k) => inner.release(k),
    markPending: (k, t, d) => inner.markPending(k, t, d),
    markSettled: (k, t) => inner.markSettled(k, t),
    size: () => inner.size(),
    settling: (k) => {
      asked.push(k);
      return answer;
    },
  };
  inner.claim(KEY, () => DIGEST, Date.now() + 60_000);
  const ledger = new MemoryLedger();
  await ledger.open();
  const payment = new Payment(
    { replay, verifyCache: new LruVerifyCache({ maxEntries: 10, negativeTtlMs: 1_000 }), ledger },
    {
      key: KEY,
      digestOf: () => DIGEST,
      holdUntilSec: Math.floor(Date.now() / 1000) + 300,
      resumed: false,
      priorTransaction: undefined,
      recordOf: () => FACTS,
    },
  );
  payment.recordVerdict({ isValid: true, payer: '0xfrom' });
  payment.forwarded();
  return { payment, ledger, asked };
}

describe('Payment.settling with a shared replay store', () => {
  it.each([
    ['lost', false],
    ['unanswered', Promise.resolve(false)],
  ])('a claim %s: ClaimLostError, nothing written, still forwarded', async (_name, answer) => {
    const { payment, ledger, asked } = await forwarded(answer);
    await expect(payment.settling()).rejects.toBeInstanceOf(ClaimLostError);
    expect(asked).toEqual([KEY]);
    expect(payment.state).toBe('forwarded');
    expect(await ledger.get(KEY)).toBeUndefined();
    await payment.release();
    expect(payment.state).toBe('released');
  });

  it('a claim still held: the write-ahead goes on', async () => {
    const { payment, ledger } = await forwarded(Promise.resolve(true));
    expect(await payment.settling()).toEqual({ kind: 'settling' });
    expect((await ledger.get(KEY))?.state).toBe('settling');
  });
});
