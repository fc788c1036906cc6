/**
 * The client-facing facts of a request (host, scheme, resource URL) are what the client addressed,
 * whatever happens after forwarding: the upstream's internal address never reaches a client or the
 * facilitator, and /verify and /settle name the same resource.
 */
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

/** `paymentRequirements.resource` of the facilitator requests to `op` since `from`. */
function resourcesSent(op: 'verify' | 'settle', from: number): unknown[] {
  return h.facilitator.requests
    .slice(from)
    .filter((r) => r.path.endsWith(`/${op}`))
    .map(
      (r) =>
        (r.body as { paymentRequirements?: { resource?: unknown } }).paymentRequirements?.resource,
    );
}

describe('request facts', () => {
  it('a 402 after a declined settlement names the gateway’s resource URL, not the upstream’s', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    h.facilitator.setMode('settle-decline');
    const res = await payWith(h.url, '/v1/quote', payment);
    expect(res.status).toBe(402);
    const required = decodeHeader(res.headers['payment-required']) as { resource: { url: string } };
    expect(required.resource.url).toBe(`${h.url}/v1/quote`);
    expect(JSON.stringify(required)).not.toContain(h.upstream.url.replace('http://', ''));
  });

  it('a v1 retry served from the verify cache settles with the same resource /verify named', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 1 });
    const from = h.facilitator.requests.length;
    h.upstream.failNext(1);
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(500);
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(200);
    expect(resourcesSent('verify', from)).toEqual([`${h.url}/v1/quote`]);
    expect(resourcesSent('settle', from)).toEqual([`${h.url}/v1/quote`]);
  });
});
