/**
 * Issue 15 §2: two gateways sharing one Redis (Debian's redis-server, started here on loopback and
 * a free port) as their replay store. One payment presented to both at once is served once and
 * settled once; while Redis cannot answer, paid requests get 503 within the deadline and are never
 * forwarded or settled, free routes are served, and /readyz's paid section names the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { payWith, signFor } from '../helpers/pay.js';
import { testAccount } from '../helpers/payments.js';
import { decodeHeader, rawRequest } from '../helpers/raw-http.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const COMMAND_TIMEOUT_MS = 150;

let redis: RedisServer;
let a: Harness;
let b: Harness;

beforeAll(async () => {
  redis = await startRedis();
  const extraYaml = `store:\n  redis:\n    url: ${redis.url}\n    commandTimeoutMs: ${COMMAND_TIMEOUT_MS}\n`;
  [a, b] = await Promise.all([startHarness({ extraYaml }), startHarness({ extraYaml })]);
});

afterAll(async () => {
  redis?.resume();
  await Promise.all([a?.close(), b?.close()]);
  await redis?.remove();
});

interface Readyz {
  paid: { ok: boolean; reasons: string[] };
  checks: Record<string, { ok: boolean; affects: string; detail: string }>;
}

async function readyz(h: Harness): Promise<Readyz> {
  return (await (await fetch(`${h.gateway.adminUrl}/readyz?scope=paid`)).json()) as Readyz;
}

const upstreamCalls = (path: string): number =>
  [a, b].reduce((n, h) => n + h.upstream.calls.filter((c) => c.url === path).length, 0);
const transfers = (): number => a.facilitator.transfers.length + b.facilitator.transfers.length;

describe('start-up', () => {
  it('fails, naming the store, when Redis cannot be reached', async () => {
    const extraYaml = 'store:\n  redis:\n    url: redis://127.0.0.1:1\n';
    await expect(startHarness({ extraYaml })).rejects.toThrow(
      /replay store: store\.redis: cannot reach redis:\/\/127\.0\.0\.1:1/,
    );
  });

  it('refuses a Redis that could evict claims', async () => {
    await redis.command('CONFIG', 'SET', 'maxmemory', '1gb');
    await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru');
    try {
      const extraYaml = `store:\n  redis:\n    url: ${redis.url}\n`;
      await expect(startHarness({ extraYaml })).rejects.toThrow(
        /replay store: store\.redis: Redis evicts keys .*volatile-lru/,
      );
    } finally {
      await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      await redis.command('CONFIG', 'SET', 'maxmemory', '0');
    }
  });
});

describe('two gateways, one Redis', () => {
  it('reports the store in /readyz and its error series at 0', async () => {
    const body = await readyz(a);
    expect(body.checks['replay store']).toMatchObject({ ok: true, affects: 'paid' });
    expect(body.checks['replay store']!.detail).toContain(`redis at ${redis.url}`);
    expect(body.checks['replay store']!.detail).toContain('noeviction');
    const metrics = await (await fetch(`${a.gateway.adminUrl}/metrics`)).text();
    for (const kind of ['timeout', 'connection', 'script']) {
      expect(metrics).toContain(`x402_gateway_store_errors_total{kind="${kind}"} 0`);
    }
  });

  it('one payment presented to both at once: one upstream call, one settlement, the other 402', async () => {
    for (let round = 0; round < 5; round++) {
      const path = `/v1/items/shared${round}`;
      const payment = await signFor(a.url, path, { version: 2, account: testAccount(2) });
      const before = transfers();
      const [ra, rb] = await Promise.all([
        payWith(a.url, path, payment),
        payWith(b.url, path, payment),
      ]);
      const statuses = [ra.status, rb.status].sort();
      expect(statuses, `${ra.body} | ${rb.body}`).toEqual([200, 402]);
      const refused = ra.status === 402 ? ra : rb;
      expect(decodeHeader(refused.headers['payment-required']).error).toBe('payment_already_used');
      expect(upstreamCalls(path)).toBe(1);
      expect(transfers()).toBe(before + 1);
      // Later, on either instance: still used.
      for (const h of [a, b]) expect((await payWith(h.url, path, payment)).status).toBe(402);
      expect(transfers()).toBe(before + 1);
    }
  });

  it("a settlement left unknown on one instance is resumed by the payment's retry on the other", async () => {
    const path = '/v1/items/handoff';
    const payment = await signFor(a.url, path, { version: 2, account: testAccount(1) });
    const settled = transfers();
    a.facilitator.setMode('settle-timeout'); // the settle request leaves, its outcome unknown
    try {
      const first = await payWith(a.url, path, payment);
      expect(first.status, first.body).toBe(503);
      expect(JSON.parse(first.body)).toMatchObject({ reason: 'settlement_pending' });
    } finally {
      a.facilitator.setMode('normal');
    }
    const verifies = b.facilitator.calls.verify;
    const retry = await payWith(b.url, path, payment);
    expect(retry.status, retry.body).toBe(200);
    // Resumed, not claimed afresh: no verify (the authorization may be on chain already).
    expect(b.facilitator.calls.verify).toBe(verifies);
    expect(transfers()).toBe(settled + 1);
    // Spent everywhere now.
    for (const h of [a, b]) expect((await payWith(h.url, path, payment)).status).not.toBe(200);
    expect(transfers()).toBe(settled + 1);
  });

  it('Redis paused: a paid request gets 503 within the deadline, unforwarded; free routes are served; /readyz names the store', async () => {
    const path = '/v1/items/paused';
    const payment = await signFor(a.url, path, { version: 2, account: testAccount(3) });
    const settled = transfers();
    const verifies = a.facilitator.calls.verify;
    redis.pause();
    try {
      const started = performance.now();
      const res = await payWith(a.url, path, payment);
      const took = performance.now() - started;
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'replay_store_unavailable' });
      expect(res.headers['retry-after']).toBe('1');
      expect(took).toBeLessThan(COMMAND_TIMEOUT_MS + 400);
      expect(upstreamCalls(path)).toBe(0);
      expect(a.facilitator.calls.verify).toBe(verifies);
      expect(transfers()).toBe(settled);

      expect((await rawRequest(a.url, { path: '/v1/health' })).status).toBe(200);

      const body = await readyz(a);
      expect(body.paid.ok).toBe(false);
      expect(body.paid.reasons.join('\n')).toMatch(/replay store: redis at .* (failing|timeout)/);
      expect(body.checks['replay store']).toMatchObject({ ok: false, affects: 'paid' });
      const metrics = await (await fetch(`${a.gateway.adminUrl}/metrics`)).text();
      expect(metrics).not.toContain('x402_gateway_store_errors_total{kind="timeout"} 0');
    } finally {
      redis.resume();
    }
    // Back: the same payment pays (its timed-out claim was undone), on either instance.
    await expect.poll(async () => (await readyz(a)).paid.ok, { timeout: 5_000 }).toBe(true);
    const res = await payWith(b.url, path, payment);
    expect(res.status, res.body).toBe(200);
    expect(transfers()).toBe(settled + 1);
  });

  it('Redis paused after the claim, while the upstream answers: never settled, nothing charged', async () => {
    const path = '/v1/items/delay'; // the upstream answers 400 ms late
    const payment = await signFor(a.url, path, { version: 2, account: testAccount(4) });
    const settled = transfers();
    const settles = a.facilitator.calls.settle;
    const pending = payWith(a.url, path, payment);
    await expect.poll(() => upstreamCalls(path), { timeout: 2_000, interval: 5 }).toBe(1);
    redis.pause();
    try {
      const res = await pending;
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'replay_store_unavailable' });
      expect(a.facilitator.calls.settle).toBe(settles);
      expect(transfers()).toBe(settled);
    } finally {
      redis.resume();
    }
  });
});
