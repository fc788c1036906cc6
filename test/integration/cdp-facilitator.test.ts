/**
 * Coinbase's facilitator authentication end to end: a gateway configured with
 * `facilitator: { url, cdp: { apiKeyId, apiKeySecret } }` against a loopback facilitator that
 * checks every call's JWT as CDP does (cdp-jwt-check.ts: signature, kid/sub, iss, aud, nbf/exp,
 * and `uris` = the call's method and host+path). Both key formats pay; a wrong or expired token is
 * refused with 401 and the paid request fails closed (503, never served).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  authorizer,
  ecTestKey,
  ed25519TestKey,
  type CdpTestKey,
} from '../helpers/cdp-jwt-check.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { decodeHeader, rawRequest } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';

const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.close()));
});

/** The `cdp` block of the facilitator section (the secret inline here; `${ENV}` in real files). */
function cdpYaml(key: CdpTestKey): string {
  return `  cdp:\n    apiKeyId: ${JSON.stringify(key.apiKeyId)}\n    apiKeySecret: ${JSON.stringify(key.apiKeySecret)}\n`;
}

/** A harness whose facilitator checks the JWT of `expected`; `refused` lists its 401s. */
async function start(
  configured: CdpTestKey,
  expected: CdpTestKey,
  clock?: () => number,
): Promise<{ h: Harness; refused: string[] }> {
  const refused: string[] = [];
  const check = authorizer(expected, clock);
  const h = await startHarness({
    facilitator: {
      authorize: async (request) => {
        const denied = await check(request);
        if (denied !== undefined) refused.push(`${request.method} ${request.path}: ${denied}`);
        return denied;
      },
    },
    facilitatorYaml: cdpYaml(configured),
  });
  harnesses.push(h);
  return { h, refused };
}

/** Pay for /v1/quote as a client would (the 402 challenge, then a signed payment). */
async function pay(h: Harness): Promise<Awaited<ReturnType<typeof payWith>>> {
  const payment = await signFor(h.url, '/v1/quote', { version: 2 });
  return payWith(h.url, '/v1/quote', payment);
}

async function ready(h: Harness): Promise<number> {
  const admin = h.gateway.adminUrl;
  for (let i = 0; i < 50; i++) {
    const r = await rawRequest(admin, { path: '/readyz' });
    if (r.status === 200) return 200;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return (await rawRequest(admin, { path: '/readyz' })).status;
}

describe.each([
  ['an EC P-256 key (SEC1 PEM)', ecTestKey],
  ['an Ed25519 key (64 base64 bytes)', ed25519TestKey],
])('a gateway on a CDP-authenticated facilitator, with %s', (_name, make) => {
  it('pays end to end: /supported, /verify and /settle each carry their own JWT', async () => {
    const key = make();
    const { h, refused } = await start(key, key);
    expect(await ready(h)).toBe(200);
    const res = await pay(h);
    expect(res.status).toBe(200);
    expect(decodeHeader(res.headers['payment-response'])).toMatchObject({ success: true });
    expect(h.facilitator.calls.verify).toBe(1);
    expect(h.facilitator.calls.settle).toBe(1);
    const tokens = h.facilitator.requests.map((r) => r.headers.authorization);
    expect(tokens.every((t) => typeof t === 'string' && t.startsWith('Bearer '))).toBe(true);
    expect(new Set(tokens).size).toBe(tokens.length); // one per request
    expect(h.facilitator.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['GET /supported', 'POST /verify', 'POST /settle']),
    );
    expect(refused).toEqual([]);
  });

  it('with a wrong key: refused (401), the paid request fails closed (503, never served)', async () => {
    const configured = make();
    // The same key id, another key: only the signature tells them apart.
    const { h, refused } = await start(configured, { ...make(), apiKeyId: configured.apiKeyId });
    const res = await pay(h);
    expect(res.status).toBe(503);
    expect(h.facilitator.calls).toEqual({ verify: 0, settle: 0, supported: 0 }); // all 401
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((r) => /signature verification failed/.test(r))).toBe(true);
    expect(h.upstream.calls).toEqual([]);
    expect(h.facilitator.transfers).toEqual([]);
  });
});

describe('a CDP-authenticated facilitator whose clock is past the token', () => {
  it('refuses the expired JWT (401): the paid request fails closed', async () => {
    const key = ecTestKey();
    const { h, refused } = await start(key, key, () => Math.floor(Date.now() / 1000) + 121);
    expect((await pay(h)).status).toBe(503);
    expect(h.facilitator.calls).toEqual({ verify: 0, settle: 0, supported: 0 });
    expect(refused[0]).toMatch(/"exp" claim timestamp check failed/);
    expect(h.upstream.calls).toEqual([]);
  });
});
