/**
 * Issue 13 "Hardening", the payment side: a validBefore far ahead never reaches the replay store;
 * a facilitator refusal that is not the payer's fault is 503, never cached, and shows in the paid
 * readiness; the settle phase, its pending retry included, is bounded by
 * facilitator.settleTimeoutMs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { decodeHeader } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';
import { encodePaymentHeader, tamperSignature } from '../helpers/payments.js';
import type { PaymentPayloadV2 } from '../../src/x402/types.js';

let h: Harness;
beforeAll(async () => {
  // supportedRefreshMs: /supported is re-read every 300 ms, so recovery shows within the test.
  h = await startHarness({ facilitatorYaml: '  supportedRefreshMs: 300' });
  await waitFor(() => h.gateway.gateway.readiness.paid().ready);
});
afterEach(() => {
  h.facilitator.setMode('normal');
  h.facilitator.setLatency(0, 'settle');
});
afterAll(async () => {
  await h.close();
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('validBefore too far ahead (replay-store lockout)', () => {
  it.each([1, 2] as const)(
    'v%i: signed ten years ahead → 402 valid_before, no facilitator call, the replay store untouched',
    async (version) => {
      const now = Math.floor(Date.now() / 1000);
      const payment = await signFor(h.url, '/v1/quote', {
        version,
        validBefore: now + 10 * 365 * 86_400,
      });
      const replay = h.gateway.gateway.deps.replay;
      const held = replay.size();
      const verifies = h.facilitator.calls.verify;
      const res = await payWith(h.url, '/v1/quote', payment);
      expect(res.status).toBe(402);
      const reason = 'invalid_exact_evm_payload_authorization_valid_before';
      expect(JSON.parse(res.body)).toMatchObject({ reason });
      if (version === 2) expect(decodeHeader(res.headers['payment-required']).error).toBe(reason);
      expect(replay.size()).toBe(held);
      expect(h.facilitator.calls.verify).toBe(verifies);
    },
  );

  it('maxTimeoutSeconds (120) + 30 s of clock skew ahead still pays', async () => {
    const now = Math.floor(Date.now() / 1000);
    const payment = await signFor(h.url, '/v1/quote', { version: 2, validBefore: now + 148 });
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(200);
  });
});

describe('a facilitator refusal that is not the payer’s fault', () => {
  it('HTTP 400 invalid_network → 503, not cached, reported in paid readiness; the same payment pays after recovery', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    h.facilitator.setMode('network-dropped');
    const verifies = h.facilitator.calls.verify;
    for (let i = 1; i <= 2; i++) {
      const res = await payWith(h.url, '/v1/quote', payment);
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'facilitator_unavailable' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // Never cached: each attempt asks the facilitator again.
      expect(h.facilitator.calls.verify).toBe(verifies + i);
    }
    const refused = h.gateway.gateway.readiness.paid();
    expect(refused.ready).toBe(false);
    expect(refused.detail).toContain('invalid_network');
    // The periodic /supported re-read sees the network gone.
    await waitFor(() => h.gateway.gateway.readiness.paid().detail.includes('does not list'));

    h.facilitator.setMode('normal');
    const paid = await payWith(h.url, '/v1/quote', payment);
    expect(paid.status).toBe(200);
    expect(h.facilitator.calls.verify).toBe(verifies + 3);
    await waitFor(() => h.gateway.gateway.readiness.paid().ready);
  });

  it('a payer-caused refusal (bad signature) is still 402, and cached', async () => {
    const good = await signFor(h.url, '/v1/quote', { version: 2 });
    const payload = tamperSignature(good.payload as PaymentPayloadV2);
    const tampered = { ...good, value: encodePaymentHeader(payload), payload };
    const verifies = h.facilitator.calls.verify;
    expect((await payWith(h.url, '/v1/quote', tampered)).status).toBe(402);
    expect((await payWith(h.url, '/v1/quote', tampered)).status).toBe(402);
    expect(h.facilitator.calls.verify).toBe(verifies + 1);
  });
});

describe('settle phase bounded by settleTimeoutMs (800 ms here)', () => {
  it('pending, then a retry that would overrun: cut at the deadline → 503 settlement_pending, not ~2× the deadline', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    h.facilitator.setMode('settle-pending');
    h.facilitator.setLatency(600, 'settle'); // each settle call: 600 ms, then "pending"
    const settles = h.facilitator.calls.settle;
    const started = performance.now();
    const res = await payWith(h.url, '/v1/quote', payment);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'settlement_pending' });
    // The retry was sent with what was left, and the first call's tx hash is kept.
    expect(h.facilitator.calls.settle).toBe(settles + 2);
    expect(decodeHeader(res.headers['payment-response']).transaction).toMatch(/^0x[0-9a-f]{64}$/);
    // Unbounded, the two calls took 1200 ms; bounded, the phase ends at ~800 ms.
    expect(elapsed).toBeLessThan(1120);
  });
});
