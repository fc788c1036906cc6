/**
 * The payment's state machine, against the real in-memory replay guard and verify cache: every
 * legal move, every illegal one refused, and what each end leaves in the stores (what a retry with
 * the same signature then meets). No sockets.
 */
import { describe, expect, it } from 'vitest';
import {
  IllegalTransitionError,
  Payment,
  TRANSITIONS,
  type PaymentState,
} from '../../../src/payment/payment.js';
import { LruVerifyCache } from '../../../src/verify/cache.js';
import { InMemoryReplayGuard } from '../../../src/verify/replay.js';

const KEY = '84532:0xasset:0xfrom:0xnonce';
const DIGEST = 'digest-of-this-payload';
const TX = `0x${'ab'.repeat(32)}`;
const VALID = { isValid: true, payer: '0xfrom' } as const;
/** The record the book would keep (these tests run without a ledger). */
const FACTS = {
  key: KEY,
  digest: DIGEST,
  x402Version: 2,
  route: 'GET /v1/quote',
  method: 'GET',
  path: '/v1/quote',
  network: 'eip155:84532',
  asset: '0xasset',
  decimals: 6,
  payTo: '0xpayto',
  payer: '0xfrom',
  amount: '1000',
  nonce: '0xnonce',
  validBefore: 2_000_000_000,
  request: '{}',
} as const;
const INVALID = { isValid: false, invalidReason: 'invalid_exact_evm_payload_signature' } as const;

/** A claimed payment on fresh stores (resumed: after an earlier settlement went pending). */
function claimed(resumed = false) {
  const replay = new InMemoryReplayGuard({ maxEntries: 100 });
  const verifyCache = new LruVerifyCache({ maxEntries: 100, negativeTtlMs: 60_000 });
  const expiresAtMs = Date.now() + 600_000;
  if (resumed) {
    expect(replay.claim(KEY, () => DIGEST, expiresAtMs)).toEqual({ kind: 'claimed' });
    replay.markPending(KEY, TX, DIGEST);
  }
  const outcome = replay.claim(KEY, () => DIGEST, expiresAtMs);
  expect(outcome.kind).toBe(resumed ? 'resumed' : 'claimed');
  const payment = new Payment(
    { replay, verifyCache, ledger: undefined },
    {
      key: KEY,
      digestOf: () => DIGEST,
      holdUntilSec: Math.floor(Date.now() / 1000) + 300,
      resumed,
      priorTransaction: resumed ? TX : undefined,
      recordOf: () => FACTS,
    },
  );
  /** What a retry with the same signature meets now. */
  const retry = () => replay.claim(KEY, () => DIGEST, expiresAtMs);
  return { payment, replay, verifyCache, retry };
}

/** Drive a fresh payment to `state` along the legal path. */
async function at(state: 'claimed' | 'verified' | 'forwarded' | 'settling') {
  const s = claimed();
  if (state === 'claimed') return s;
  s.payment.recordVerdict(VALID);
  if (state === 'verified') return s;
  s.payment.forwarded();
  if (state === 'forwarded') return s;
  await s.payment.settling();
  return s;
}

describe('Payment: the path of a paid request', () => {
  it('claimed → verified → forwarded → settling → settled: spent, a retry is refused as used', async () => {
    const { payment, retry, verifyCache } = await at('settling');
    await payment.end('settled', TX);
    expect(payment.state).toBe('settled');
    expect(payment.decided).toBe(true);
    expect(retry()).toEqual({ kind: 'used' });
    expect(verifyCache.get(KEY, () => DIGEST)).toBeUndefined();
  });

  it.each(['claimed', 'verified', 'forwarded'] as const)(
    'released from %s: nothing moved, the retry claims afresh and meets the cached verdict',
    async (from) => {
      const { payment, retry, verifyCache } = await at(from);
      if (from === 'claimed') payment.recordVerdict(INVALID);
      await payment.release();
      expect(payment.state).toBe('released');
      expect(retry()).toEqual({ kind: 'claimed' });
      expect(verifyCache.get(KEY, () => DIGEST)).toEqual(from === 'claimed' ? INVALID : VALID);
    },
  );

  it('declined after settling: released for a retry, but the earlier "valid" is not cached', async () => {
    const { payment, retry, verifyCache } = await at('settling');
    await payment.end('declined');
    expect(payment.state).toBe('declined');
    expect(retry()).toEqual({ kind: 'claimed' });
    expect(verifyCache.get(KEY, () => DIGEST)).toBeUndefined();
  });

  it('unknown after settling: kept pending with the hash; the same payload resumes it', async () => {
    const { payment, retry } = await at('settling');
    await payment.end('unknown', TX);
    expect(payment.state).toBe('unknown');
    expect(retry()).toEqual({ kind: 'resumed', transaction: TX });
  });

  it('failed after settling (proven on chain): spent, a retry is refused as used', async () => {
    const { payment, retry } = await at('settling');
    await payment.end('failed');
    expect(payment.state).toBe('failed');
    expect(retry()).toEqual({ kind: 'used' });
  });
});

describe('Payment: delivery', () => {
  it('a settled payment whose response went out whole is delivered: decided and ended', async () => {
    const { payment, retry } = await at('settling');
    await payment.end('settled', TX);
    expect(payment.decided).toBe(true);
    expect(payment.ended).toBe(false); // settled, not delivered yet: what a refund report lists
    payment.delivered();
    expect(payment.state).toBe('delivered');
    expect(payment.ended).toBe(true);
    expect(retry()).toEqual({ kind: 'used' });
  });

  it('only a settled payment can be delivered', () => {
    expect(() => claimed().payment.delivered()).toThrow(IllegalTransitionError);
  });
});

describe('Payment: a resumed payment', () => {
  it('is forwarded without verification', () => {
    const { payment } = claimed(true);
    payment.forwarded();
    expect(payment.state).toBe('forwarded');
  });

  it('goes back to pending, never released, when the request ends before settling', async () => {
    const { payment, retry } = claimed(true);
    payment.forwarded();
    await payment.release();
    expect(payment.state).toBe('unknown');
    expect(retry()).toEqual({ kind: 'resumed', transaction: TX });
  });

  it('a decline keeps it pending (the earlier broadcast may land), with the earlier hash', async () => {
    const { payment, retry } = claimed(true);
    payment.forwarded();
    await payment.settling();
    await payment.end('declined');
    expect(payment.state).toBe('unknown');
    expect(retry()).toEqual({ kind: 'resumed', transaction: TX });
  });
});

describe('Payment: the safety net', () => {
  it('abandoned before a settle request: released', async () => {
    const { payment, retry } = await at('forwarded');
    await payment.abandon(undefined);
    expect(payment.state).toBe('released');
    expect(retry()).toEqual({ kind: 'claimed' });
  });

  it('abandoned after a settle request: the money may have moved, kept pending', async () => {
    const { payment, retry } = await at('settling');
    await payment.abandon(TX);
    expect(payment.state).toBe('unknown');
    expect(retry()).toEqual({ kind: 'resumed', transaction: TX });
  });

  it('abandoning an ended payment changes nothing', async () => {
    const { payment, retry } = await at('settling');
    await payment.end('settled', TX);
    await payment.abandon(undefined);
    expect(payment.state).toBe('settled');
    expect(retry()).toEqual({ kind: 'used' });
  });
});

describe('Payment: illegal moves are refused', () => {
  it('a fresh payment cannot be forwarded unverified, nor settle before it is forwarded', async () => {
    expect(() => claimed().payment.forwarded()).toThrow(IllegalTransitionError);
    await expect((await at('verified')).payment.settling()).rejects.toThrow(IllegalTransitionError);
  });

  it('an ended payment cannot move or end again', async () => {
    const { payment } = await at('settling');
    await payment.end('settled', TX);
    await expect(payment.end('unknown', TX)).rejects.toThrow(/settled → unknown/);
    expect(() => payment.release()).toThrow(IllegalTransitionError);
  });

  it('a settlement outcome needs a settle request first', async () => {
    await expect((await at('forwarded')).payment.end('settled', TX)).rejects.toThrow(
      IllegalTransitionError,
    );
  });

  it('the end states have no way out', () => {
    const ends: PaymentState[] = ['released', 'delivered', 'declined', 'unknown', 'failed'];
    for (const end of ends) expect(TRANSITIONS[end]).toEqual([]);
  });
});
