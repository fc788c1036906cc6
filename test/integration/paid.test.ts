import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { rawRequest, decodeHeader } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';
import { TEST_PAY_TO, testAccount } from '../helpers/payments.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('a valid payment', () => {
  it('v2: is verified, forwarded, settled, and answered with PAYMENT-RESPONSE', async () => {
    const payment = await signFor(h.url, '/v1/quote?sym=ETH', { version: 2 });
    const transfersBefore = h.facilitator.transfers.length;
    const res = await payWith(h.url, '/v1/quote?sym=ETH', payment);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, url: '/v1/quote?sym=ETH' });
    const receipt = decodeHeader(res.headers['payment-response']);
    expect(receipt).toMatchObject({
      success: true,
      network: 'eip155:84532',
      payer: testAccount(0).address,
    });
    expect(String(receipt.transaction)).toMatch(/^0x[0-9a-f]{64}$/);
    expect(res.headers['x-payment-response']).toBeUndefined();
    expect(res.headers['cache-control']).toContain('private');
    expect(h.facilitator.transfers.length).toBe(transfersBefore + 1);
    expect(h.facilitator.transfers.at(-1)).toMatchObject({ value: 1000n, to: TEST_PAY_TO });
  });

  it('v1: is answered with X-PAYMENT-RESPONSE and a v1 network name', async () => {
    const payment = await signFor(h.url, '/v1/items/7', { version: 1 });
    const res = await payWith(h.url, '/v1/items/7', payment);
    expect(res.status).toBe(200);
    const receipt = decodeHeader(res.headers['x-payment-response']);
    expect(receipt).toMatchObject({ success: true, network: 'base-sepolia' });
    expect(res.headers['payment-response']).toBeUndefined();
  });

  it('a v1 payload sent in PAYMENT-SIGNATURE is answered in v1 form (by the payload version)', async () => {
    const payment = await signFor(h.url, '/v1/items/8', {
      version: 1,
      header: 'payment-signature',
    });
    const res = await payWith(h.url, '/v1/items/8', payment);
    expect(res.status).toBe(200);
    expect(decodeHeader(res.headers['x-payment-response'])).toMatchObject({
      network: 'base-sepolia',
    });
  });

  it('tells the upstream who paid, and never shows it the payment header', async () => {
    const payment = await signFor(h.url, '/v1/vision', {
      version: 2,
      method: 'POST',
      account: testAccount(1),
    });
    const res = await payWith(h.url, '/v1/vision', payment, {
      method: 'POST',
      body: '{"img":"x"}',
    });
    expect(res.status).toBe(200);
    const seen = h.upstream.calls.at(-1)!;
    expect(seen.method).toBe('POST');
    expect(seen.body).toBe('{"img":"x"}');
    expect(seen.headers['x-payment-payer']).toBe(testAccount(1).address);
    expect(seen.headers['x-payment-amount']).toBe('10000');
    expect(seen.headers['x-payment-network']).toBe('eip155:84532');
    expect(seen.headers['payment-signature']).toBeUndefined();
    expect(seen.headers['x-payment']).toBeUndefined();
  });

  it('PAYMENT-SIGNATURE wins when both headers are sent', async () => {
    const v2 = await signFor(h.url, '/v1/quote', { version: 2 });
    const res = await rawRequest(h.url, {
      path: '/v1/quote',
      headers: { 'payment-signature': v2.value, 'x-payment': 'not even base64!' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['payment-response']).toBeDefined();
  });

  it('HEAD is paid as GET', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    const res = await payWith(h.url, '/v1/quote', payment, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(decodeHeader(res.headers['payment-response'])).toMatchObject({ success: true });
  });

  it('buffer-then-settle route over its cap is refused before settling, and the payment stays usable', async () => {
    const payment = await signFor(h.url, '/v1/big', { version: 2 });
    const settles = h.facilitator.calls.settle;
    const res = await payWith(h.url, '/v1/big', payment);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'upstream_response_too_large' });
    expect(h.facilitator.calls.settle).toBe(settles);
    // Same signature on a route of the same price: not claimed any more.
    const again = await payWith(h.url, '/v1/quote', payment);
    expect(again.status).toBe(200);
  });
});

describe('metrics', () => {
  it('revenue on /metrics equals the sum of transfers to payTo', async () => {
    const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
    const revenue = text
      .split('\n')
      .filter((l) => l.startsWith('x402_gateway_revenue_atomic_total{'))
      .reduce((sum, l) => sum + BigInt(l.split(' ').at(-1)!), 0n);
    const transferred = h.facilitator.transfers
      .filter((t) => t.to === TEST_PAY_TO)
      .reduce((sum, t) => sum + t.value, 0n);
    expect(transferred).toBeGreaterThan(0n);
    expect(revenue).toBe(transferred);
    expect(text).toMatch(
      /x402_gateway_requests_total\{route="GET \/v1\/quote",outcome="paid"\} \d+/,
    );
    expect(text).toMatch(/x402_gateway_payments_total\{outcome="paid",reason="none"\} \d+/);
    expect(text).not.toMatch(/x402_gateway_payments_total\{outcome="paid",reason="other"\}/);
    expect(text).toContain('x402_gateway_in_flight');
    expect(text).toContain('x402_gateway_facilitator_duration_seconds_bucket');
    expect(text).toMatch(/x402_gateway_verify_cache_total\{result="miss"\} \d+/);
    // The funnel's "verified" step: every payment that settled passed verification first.
    const count = (pattern: RegExp): number =>
      text
        .split('\n')
        .filter((l) => pattern.test(l))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    const verified = count(/^x402_gateway_payments_verified_total\{/);
    expect(verified).toBeGreaterThan(0);
    expect(verified).toBeGreaterThanOrEqual(
      count(/^x402_gateway_settlements_total\{result="success"\}/),
    );
  });

  it('/healthz and /readyz answer on the admin listener, not on the paying side', async () => {
    expect((await fetch(`${h.gateway.adminUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.gateway.adminUrl}/readyz`)).status).toBe(200);
    const onPublic = await rawRequest(h.url, { path: '/metrics' });
    expect(onPublic.body).not.toContain('x402_gateway_');
  });
});
