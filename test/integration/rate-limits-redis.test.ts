/**
 * Issue 16 §4, rate limits shared by a fleet through the shared store: Debian's redis-server on
 * loopback, two gateways (or two limiters) on it. Each instance pushes its counts in the
 * background; a client spread over both meets one limit. With Redis down each instance limits on
 * its own counts (fail open) while paid requests still fail closed on the replay store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/index.js';
import { RateLimits } from '../../src/pipeline/index.js';
import { RedisCounters } from '../../src/verify/index.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let redis: RedisServer;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  redis?.resume();
  await redis?.remove();
});

const counters = (): RedisCounters =>
  new RedisCounters({ url: redis.url, keyPrefix: 'test:rl:', commandTimeoutMs: 150 });

describe('two limiters on one Redis', () => {
  it('a client spread over both meets the fleet-wide limit; Redis down → each on its own counts', async () => {
    const config = {
      ...DEFAULTS.rateLimits,
      failuresPerMinute: { perClient: 10, perPayer: 60 },
    };
    const a = new RateLimits(config);
    const b = new RateLimits(config);
    const ca = counters();
    const cb = counters();
    expect(await ca.connect()).toBe(true);
    expect(await cb.connect()).toBe(true);
    const results: boolean[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        a.clientFailed('203.0.113.9');
        b.clientFailed('203.0.113.9');
      }
      // Alone, each has 4 failures left.
      expect(a.clientWait('203.0.113.9')).toBe(0);
      await a.sync(ca, (ok) => results.push(ok));
      expect(results).toEqual([true]);
      await b.sync(cb, (ok) => results.push(ok));
      expect(results.at(-1)).toBe(true);
      // b has seen a's 6: 12 spent fleet-wide, over 10.
      expect(b.clientWait('203.0.113.9')).toBeGreaterThan(0);
      // a sees b's on its next push.
      a.clientFailed('203.0.113.9');
      await a.sync(ca, (ok) => results.push(ok));
      expect(a.clientWait('203.0.113.9')).toBeGreaterThan(0);
      const keys = await redis.command('KEYS', 'test:rl:*');
      expect(keys).toContain('client_failures:');

      // Redis down: pushes fail, and each limiter goes on with its own counts (fail open).
      await redis.kill();
      for (let i = 0; i < 6; i++) a.clientFailed('198.51.100.4');
      const before = results.length;
      await a.sync(ca, (ok) => results.push(ok));
      expect(results.slice(before)).toEqual([false]);
      expect(a.clientWait('198.51.100.4')).toBe(0);
      for (let i = 0; i < 4; i++) a.clientFailed('198.51.100.4');
      expect(a.clientWait('198.51.100.4')).toBeGreaterThan(0);
    } finally {
      await Promise.all([ca.close(), cb.close()]);
      await redis.start();
    }
  });
});

describe('two gateways on one Redis', () => {
  let g1: Harness;
  let g2: Harness;
  afterAll(async () => {
    await Promise.all([g1?.close(), g2?.close()]);
  });

  it('challenges taken on one gateway count on the other after a sync', async () => {
    const extraYaml = [
      `store:\n  redis:\n    url: ${redis.url}`,
      'rateLimits:',
      '  challengesPerSecond: { perClient: 1, burst: 20 }',
      '  syncIntervalMs: 50',
    ].join('\n');
    [g1, g2] = await Promise.all([startHarness({ extraYaml }), startHarness({ extraYaml })]);
    const ask = (h: Harness) =>
      rawRequest(h.url, { path: '/v1/quote', localAddress: '127.0.0.5' }).then((r) => r.status);
    // 10 on each at once, 20 in all: alone, each gateway would allow 10 more.
    const first = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ask(i % 2 === 0 ? g1 : g2)),
    );
    expect(first.every((s) => s === 402)).toBe(true);
    // After a sync on both, the client has spent the fleet's 20 everywhere.
    // Alone, each would still allow 10; with the fleet's count at most what refilled meanwhile
    // (1 a second: a loaded machine may take a second or two) gets through before the 429s.
    await new Promise((r) => setTimeout(r, 200));
    for (const g of [g1, g2]) {
      const next: number[] = [];
      for (let i = 0; i < 6; i++) next.push(await ask(g));
      expect(next.filter((s) => s === 402).length, JSON.stringify(next)).toBeLessThanOrEqual(3);
      expect(next).toContain(429);
    }
    // Another client is unaffected.
    expect(
      (await rawRequest(g2.url, { path: '/v1/quote', localAddress: '127.0.0.6' })).status,
    ).toBe(402);
    const text = await g1.gateway.gateway.metrics.registry.metrics();
    expect(text).toMatch(/^x402_gateway_rate_limit_syncs_total\{result="ok"\} [1-9]/m);
  });
});
