/**
 * Issue 14 §4: 20 config reloads, some of them invalid, while autocannon keeps the gateway busy
 * (free requests and 402 challenges on 16 keep-alive connections) and paid requests settle beside
 * them. Nothing may fail: zero errors, zero dropped connections, every response the one its
 * route gives, every paid request served; and each valid reload's price is what the very next
 * request is asked for.
 */
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../helpers/gateway-harness.js';
import { payWith, signFor } from '../../helpers/pay.js';
import { decodeHeader, rawRequest } from '../../helpers/raw-http.js';

let h: Harness;
beforeAll(async () => {
  // autocannon asks for thousands of 402s a second from one address: past the challenge rate
  // (rateLimits) it would get 429s. The reloads under load are what is measured here.
  h = await startHarness({ extraYaml: 'rateLimits: { enabled: false }' });
});
afterAll(async () => {
  await h.close();
});

const RELOADS = 20;

/** What this test reads of autocannon's result. */
interface LoadResult {
  readonly errors: number;
  readonly timeouts: number;
  readonly requests: { readonly total: number };
}

async function quotePrice(): Promise<string | undefined> {
  const res = await rawRequest(h.url, { method: 'GET', path: '/v1/quote' });
  const accepts = decodeHeader(res.headers['payment-required']).accepts as { amount: string }[];
  return accepts[0]?.amount;
}

describe('reloads under load', () => {
  it('20 reloads (every fourth invalid) under autocannon: no error, no dropped connection, each price on the next request', async () => {
    const statuses = new Map<string, number>();
    const count = (key: string): void => void statuses.set(key, (statuses.get(key) ?? 0) + 1);
    let connections = 0;
    const load = new Promise<LoadResult>((resolve, reject) => {
      const instance = autocannon(
        {
          url: h.url,
          connections: 16,
          duration: 6,
          timeout: 5,
          requests: [
            { method: 'GET', path: '/v1/health' },
            { method: 'GET', path: '/v1/quote' },
          ],
          setupClient: () => connections++,
        },
        (err, result) => (err ? reject(err) : resolve(result)),
      );
      instance.on('response', (_client: unknown, status: number) => count(String(status)));
    });

    // Paid requests on a route the reloads leave alone: each one signs, pays and must be served.
    let paying = true;
    const paid: number[] = [];
    const payLoop = (async () => {
      while (paying) {
        const payment = await signFor(h.url, '/v1/items/7', { version: 2 });
        paid.push((await payWith(h.url, '/v1/items/7', payment)).status);
      }
    })();

    const yaml = h.yaml;
    let price = '1000';
    const applied: string[] = [];
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 1; i <= RELOADS; i++) {
      if (i % 4 === 0) {
        const report = h.reload(
          yaml.replace('"GET /v1/quote": "$0.001"', '"GET /v1/quote": "$-1"'),
        );
        expect(report.ok).toBe(false);
      } else {
        const next = (1000 + i).toString();
        const report = h.reload(
          yaml.replace('"GET /v1/quote": "$0.001"', `"GET /v1/quote": "$0.00${next}"`),
        );
        expect(report).toMatchObject({ ok: true, refused: [] });
        price = next;
      }
      applied.push(price);
      // The very next request is asked for the price in force: the new one, or after an invalid
      // file the last valid one.
      expect(await quotePrice()).toBe(price);
      await new Promise((r) => setTimeout(r, 200));
    }
    const result = await load;
    paying = false;
    await payLoop;

    expect(result.errors).toBe(0);
    expect(result.timeouts).toBe(0);
    // Every connection autocannon opened is the one it kept: none was dropped and reopened.
    expect(connections).toBe(16);
    expect([...statuses.keys()].sort()).toEqual(['200', '402']);
    expect(result.requests.total).toBeGreaterThan(1000);
    expect(paid.length).toBeGreaterThan(5);
    expect(paid.every((s) => s === 200)).toBe(true);
    expect(applied.at(-1)).toBe(price);
    const reloads = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
    expect(reloads).toMatch(/x402_gateway_config_reload_total\{result="success"\} 15/);
    expect(reloads).toMatch(/x402_gateway_config_reload_total\{result="failure"\} 5/);
  });
});
