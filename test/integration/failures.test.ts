import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { decodeHeader } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => {
  h.facilitator.setMode('normal');
});
afterAll(async () => {
  await h.close();
});

describe('facilitator unavailable at verify', () => {
  it.each(['verify-timeout', 'verify-500', 'verify-garbage', 'verify-refuse'] as const)(
    '%s → 503 facilitator_unavailable with Retry-After, never forwarded; the signature stays usable',
    async (mode) => {
      const payment = await signFor(h.url, '/v1/quote', { version: 2 });
      h.facilitator.setMode(mode);
      const upstream = h.upstream.calls.length;
      const res = await payWith(h.url, '/v1/quote', payment);
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'facilitator_unavailable' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(h.upstream.calls.length).toBe(upstream);
      h.facilitator.setMode('normal');
      expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(200);
    },
  );
});

describe('upstream failures are never charged', () => {
  it('upstream 500 is passed through unsettled, and the same payment then pays for a working route', async () => {
    const payment = await signFor(h.url, '/v1/fail', { version: 2 });
    const settles = h.facilitator.calls.settle;
    const res = await payWith(h.url, '/v1/fail', payment);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'upstream broke' });
    expect(res.headers['payment-response']).toBeUndefined();
    expect(h.facilitator.calls.settle).toBe(settles);
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(200);
  });

  it('a retry after an upstream failure reuses the cached verdict, then settles once', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    const verifies = h.facilitator.calls.verify;
    const settles = h.facilitator.calls.settle;
    h.upstream.failNext(1);
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(500);
    expect(h.facilitator.calls.verify).toBe(verifies + 1);
    const retry = await payWith(h.url, '/v1/quote', payment);
    expect(retry.status).toBe(200);
    expect(h.facilitator.calls.verify).toBe(verifies + 1); // served from the verify cache
    expect(h.facilitator.calls.settle).toBe(settles + 1);
    // Spent now: a third use is a replay, whatever the cache held.
    const replay = await payWith(h.url, '/v1/quote', payment);
    expect(replay.status).toBe(402);
    expect(decodeHeader(replay.headers['payment-required']).error).toBe('payment_already_used');
  });

  it('upstream 404 is passed through unsettled', async () => {
    const payment = await signFor(h.url, '/v1/missing', { version: 1 });
    const settles = h.facilitator.calls.settle;
    const res = await payWith(h.url, '/v1/missing', payment);
    expect(res.status).toBe(404);
    expect(h.facilitator.calls.settle).toBe(settles);
  });

  it('upstream timeout → 504 upstream_timeout, nothing settled, payment reusable', async () => {
    const payment = await signFor(h.url, '/v1/slow', { version: 2 });
    const settles = h.facilitator.calls.settle;
    const res = await payWith(h.url, '/v1/slow', payment);
    expect(res.status).toBe(504);
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'upstream_timeout' });
    expect(h.facilitator.calls.settle).toBe(settles);
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(200);
  });

  it('upstream refusing connections → 502 upstream_unavailable, nothing settled', async () => {
    const down = await startHarness();
    try {
      await down.upstream.close();
      const payment = await signFor(down.url, '/v1/quote', { version: 2 });
      const res = await payWith(down.url, '/v1/quote', payment);
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'upstream_unavailable' });
      expect(down.facilitator.calls.settle).toBe(0);
    } finally {
      await down.gateway.close();
      await down.facilitator.close();
    }
  });
});

describe('settlement', () => {
  it('definitively declined → 402 with a failed settlement header, body withheld, nothing moved', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    h.facilitator.setMode('settle-decline');
    const transfers = h.facilitator.transfers.length;
    const res = await payWith(h.url, '/v1/quote', payment);
    expect(res.status).toBe(402);
    expect(res.body).not.toContain('"ok":true');
    expect(decodeHeader(res.headers['payment-response'])).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_insufficient_balance',
    });
    expect(h.facilitator.transfers.length).toBe(transfers);
  });

  it('a refusal that is not a pre-broadcast one → 503 settlement_pending, claim kept, never a 402', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    h.facilitator.setMode('settle-fail-unlisted');
    const res = await payWith(h.url, '/v1/quote', payment);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'settlement_pending' });
    expect(res.body).not.toContain('"ok":true');
    // The claim is kept: the same signature resumes the settlement, and settles once it can.
    h.facilitator.setMode('normal');
    const retry = await payWith(h.url, '/v1/quote', payment);
    expect(retry.status).toBe(200);
  });

  it('a 5xx with a failure body after the transfer moved → 503 settlement_pending, never a 402 or a free pass', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    h.facilitator.setMode('settle-500-failure-body');
    const transfers = h.facilitator.transfers.length;
    const res = await payWith(h.url, '/v1/quote', payment);
    expect(h.facilitator.transfers.length).toBe(transfers + 1);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'settlement_pending' });
    // The facilitator now refuses it as spent: that is no proof we were paid, so still pending.
    h.facilitator.setMode('normal');
    const retry = await payWith(h.url, '/v1/quote', payment);
    expect(retry.status).toBe(503);
    expect(JSON.parse(retry.body)).toMatchObject({ reason: 'settlement_pending' });
    expect(retry.body).not.toContain('"ok":true');
  });

  it('after a declined settlement the same payment is verified afresh, not served from the cache', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    h.facilitator.setMode('settle-decline');
    const verifies = h.facilitator.calls.verify;
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(402);
    h.facilitator.setMode('normal');
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(200);
    expect(h.facilitator.calls.verify).toBe(verifies + 2);
  });

  it('pending once → retried with the identical request, then served', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    h.facilitator.setMode('settle-pending-once');
    const settles = h.facilitator.calls.settle;
    const res = await payWith(h.url, '/v1/quote', payment);
    expect(res.status).toBe(200);
    expect(h.facilitator.calls.settle).toBe(settles + 2);
    const bodies = h.facilitator.requests
      .filter((r) => r.path.endsWith('/settle'))
      .slice(-2)
      .map((r) => JSON.stringify(r.body));
    expect(bodies[0]).toBe(bodies[1]);
  });

  it.each(['settle-pending', 'settle-timeout', 'settle-500'] as const)(
    '%s → 503 settlement_pending, body withheld, claim kept; the same signature later settles (never a fresh 402)',
    async (mode) => {
      const payment = await signFor(h.url, '/v1/quote', { version: 1 });
      h.facilitator.setMode(mode);
      const res = await payWith(h.url, '/v1/quote', payment);
      expect(res.status).toBe(503);
      const body = JSON.parse(res.body) as Record<string, unknown>;
      expect(body).toMatchObject({ reason: 'settlement_pending' });
      expect(body.ok).toBeUndefined();
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      const receipt = decodeHeader(res.headers['x-payment-response']);
      expect(receipt).toMatchObject({ success: false, errorReason: 'settlement_pending' });
      if (mode === 'settle-pending')
        expect(String(receipt.transaction)).toMatch(/^0x[0-9a-f]{64}$/);

      h.facilitator.setMode('normal');
      const retry = await payWith(h.url, '/v1/quote', payment);
      expect(retry.status).toBe(200);
      expect(decodeHeader(retry.headers['x-payment-response'])).toMatchObject({ success: true });
      // Settled now: a third use is a replay.
      expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(402);
    },
  );
});
