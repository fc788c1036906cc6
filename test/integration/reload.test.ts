/**
 * Config reload on a running gateway (issue 14 §4): a new price applies to the next request,
 * requests in flight finish on the config they started with, and a payment the ledger already
 * holds is answered from its record, never turned into a 402 by a price change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { payWith, signFor } from '../helpers/pay.js';
import { decodeHeader, rawRequest } from '../helpers/raw-http.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** The v2 price the gateway asks for `path` now, atomic units. */
async function priceOf(path: string): Promise<unknown> {
  const res = await rawRequest(h.url, { method: 'GET', path });
  expect(res.status).toBe(402);
  return (decodeHeader(res.headers['payment-required']).accepts as { amount: string }[])[0]?.amount;
}

/** The settle requests' amounts the facilitator received since `from`. */
function settledAmounts(from: number): unknown[] {
  return h.facilitator.requests
    .slice(from)
    .filter((r) => r.path === '/settle')
    .map((r) => (r.body as { paymentRequirements: { amount: string } }).paymentRequirements.amount);
}

describe('config reload', () => {
  it('a request in flight settles at the price it started with; the next request sees the new price', async () => {
    const yaml = h.yaml;
    const payment = await signFor(h.url, '/v1/search/a/delay', { version: 2 });
    const signedBefore = await signFor(h.url, '/v1/search/c', { version: 2 });
    const seen = h.facilitator.requests.length;
    // The upstream answers /delay 400 ms late: the reload lands while the request is upstream.
    const inFlight = payWith(h.url, '/v1/search/a/delay', payment);
    await new Promise((r) => setTimeout(r, 100));
    const report = h.reload(yaml.replace('"/v1/search/*": "$0.0005"', '"/v1/search/*": "$0.0007"'));
    expect(report).toMatchObject({ ok: true, changed: ['routes'], refused: [] });
    expect(await priceOf('/v1/search/b')).toBe('700');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(settledAmounts(seen)).toEqual(['500']);
    // A payment signed for the old price is now a wrong amount: asked for the new one.
    const stale = await payWith(h.url, '/v1/search/c', signedBefore);
    expect(stale.status).toBe(402);
    expect(decodeHeader(stale.headers['payment-required']).accepts).toMatchObject([
      { amount: '700' },
    ]);
    h.reload(yaml);
    expect(await priceOf('/v1/search/b')).toBe('500');
  });

  it('a settlement left pending before a price change resumes at its recorded price, never a 402', async () => {
    const yaml = h.yaml;
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    h.facilitator.setMode('settle-fail-unlisted');
    try {
      const first = await payWith(h.url, '/v1/quote', payment);
      expect(first.status).toBe(503);
      expect(JSON.parse(first.body)).toMatchObject({ reason: 'settlement_pending' });
      expect(
        h.reload(yaml.replace('"GET /v1/quote": "$0.001"', '"GET /v1/quote": "$0.004"')).ok,
      ).toBe(true);
      expect(await priceOf('/v1/quote')).toBe('4000');
      h.facilitator.setMode('normal');
      const seen = h.facilitator.requests.length;
      const retry = await payWith(h.url, '/v1/quote', payment);
      expect(retry.status).toBe(200);
      expect(settledAmounts(seen)).toEqual(['1000']);
    } finally {
      h.facilitator.setMode('normal');
      h.reload(yaml);
    }
  });

  it('an invalid config changes nothing and reports every problem', async () => {
    const broken = h.yaml
      .replace('"GET /v1/quote": "$0.001"', '"GET /v1/quote": "a dollar"')
      .replace('upstreamTimeoutMs: 700', 'upstreamTimeoutMs: -1');
    const report = h.reload(broken);
    expect(report.ok).toBe(false);
    if (!report.ok) {
      const paths = report.problems.map((p) => p.path).join(' ');
      expect(paths).toContain('upstreamTimeoutMs');
      expect(paths).toContain('GET /v1/quote');
    }
    expect(await priceOf('/v1/quote')).toBe('1000');
  });

  it('restart-only keys keep their running values and are named; the rest applies', async () => {
    const yaml = h.yaml;
    const report = h.reload(
      yaml
        .replace(/upstream: http:\/\/127\.0\.0\.1:\d+/, 'upstream: http://127.0.0.1:9')
        .replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:1')
        .replace('"GET /v1/quote": "$0.001"', '"GET /v1/quote": "$0.002"'),
    );
    try {
      expect(report).toMatchObject({ ok: true, changed: ['routes'] });
      if (report.ok) expect([...report.refused].sort()).toEqual(['server.listen', 'upstream']);
      expect(await priceOf('/v1/quote')).toBe('2000');
      // Still forwarding to the running upstream: the refused key did not apply.
      const free = await rawRequest(h.url, { method: 'GET', path: '/v1/health' });
      expect(free.status).toBe(200);
    } finally {
      h.reload(yaml);
    }
  });

  it('a new facilitator URL applies to new requests; the old client closes once idle', async () => {
    const yaml = h.yaml;
    const before = h.facilitator.requests.length;
    const report = h.reload(yaml.replace(`url: ${h.facilitator.url}`, 'url: http://127.0.0.1:9'));
    try {
      expect(report).toMatchObject({ ok: true, changed: ['facilitator.url'] });
      const payment = await signFor(h.url, '/v1/quote', { version: 2 });
      const res = await payWith(h.url, '/v1/quote', payment);
      // Nothing listens there: fail closed, and the old facilitator saw no request.
      expect(res.status).toBe(503);
      expect(h.facilitator.requests.slice(before).filter((r) => r.path === '/verify')).toEqual([]);
    } finally {
      h.reload(yaml);
    }
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(200);
  });
});
