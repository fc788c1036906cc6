/**
 * Forwarding through the real gateway: bodies both ways, past the 16 KiB a waiting response keeps in
 * memory, and requests without a body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { decodeHeader, rawRequest } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    routesYaml: `
routes:
  "GET /v1/bigpaid": "$0.001"
  "GET /v1/quote": "$0.001"
`,
  });
});
afterAll(async () => {
  await h.close();
});

describe('forwarding', () => {
  it('a paid response longer than what waits in memory is settled, then streamed whole', async () => {
    // The upstream answers /v1/big* with 64 KiB: the gateway pauses it past 16 KiB while it settles.
    const payment = await signFor(h.url, '/v1/bigpaid', { version: 2 });
    const transfersBefore = h.facilitator.transfers.length;
    const res = await payWith(h.url, '/v1/bigpaid', payment);
    expect(res.status).toBe(200);
    expect(res.body).toBe('\x07'.repeat(65536));
    expect(decodeHeader(res.headers['payment-response'])).toMatchObject({ success: true });
    expect(h.facilitator.transfers.length).toBe(transfersBefore + 1);
  });

  it('a 2 MiB upload to a free path reaches the upstream whole, with its length', async () => {
    const body = 'y'.repeat(2 * 1024 * 1024);
    const res = await rawRequest(h.url, { method: 'PUT', path: '/upload', body });
    expect(res.status).toBe(200);
    const seen = h.upstream.calls.at(-1)!;
    expect(seen.method).toBe('PUT');
    expect(seen.headers['content-length']).toBe(String(body.length));
    expect(seen.body).toBe(body);
  });

  it('HEAD on a free path: the upstream status and headers, no body', async () => {
    const res = await rawRequest(h.url, { method: 'HEAD', path: '/v1/big-free' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.body).toBe('');
    expect(h.upstream.calls.at(-1)).toMatchObject({ method: 'HEAD', url: '/v1/big-free' });
  });
});
