/**
 * The book of record in Postgres, in the whole gateway: two gateways configured with one
 * `ledger: { postgres: { url } }` (a throwaway server, test/helpers/postgres-server.ts) write their
 * paid requests to the one book, each sees the other's records, and a stopped server makes paid
 * requests 503 `ledger_unavailable` (nothing settled) until it is back. They share one Redis
 * replay store: two instances of one book with claims in memory refuse to run side by side
 * (instances-postgres.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PostgresLedger } from '../../src/ledger/index.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { payWith, signFor } from '../helpers/pay.js';
import { testAccount } from '../helpers/payments.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let server: PostgresServer;
let redis: RedisServer;
let url: string;
let a: Harness;
let b: Harness;
let reader: PostgresLedger;

beforeAll(async () => {
  [server, redis] = await Promise.all([startPostgres(), startRedis()]);
  url = await server.createSchema('fleet');
  const extraYaml = `ledger: { postgres: { url: "${url}" } }\nstore: { redis: { url: "${redis.url}" } }`;
  [a, b] = await Promise.all([startHarness({ extraYaml }), startHarness({ extraYaml })]);
  reader = new PostgresLedger({ url });
  await reader.open();
}, 60_000);

afterAll(async () => {
  await reader?.close();
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([server?.remove(), redis?.remove()]);
});

async function ledgerReady(h: Harness): Promise<boolean> {
  const res = await fetch(`${h.gateway.adminUrl}/readyz`);
  const body = (await res.json()) as { checks: { ledger: { ok: boolean } } };
  return body.checks.ledger.ok;
}

describe('a fleet on one Postgres ledger', () => {
  it('both gateways write their paid requests to the one book', async () => {
    const onA = await payWith(
      a.url,
      '/v1/items/pg-a',
      await signFor(a.url, '/v1/items/pg-a', { account: testAccount(2) }),
    );
    const onB = await payWith(
      b.url,
      '/v1/items/pg-b',
      await signFor(b.url, '/v1/items/pg-b', { account: testAccount(3) }),
    );
    expect(onA.status).toBe(200);
    expect(onB.status).toBe(200);
    await vi.waitFor(async () => {
      const settled = await reader.list({ states: ['settled'] });
      expect(settled.map((r) => r.path).sort()).toEqual(['/v1/items/pg-a', '/v1/items/pg-b']);
      expect(settled.every((r) => r.deliveredAt !== undefined)).toBe(true);
    });
    expect(await reader.revenue()).toEqual([expect.objectContaining({ amount: '4000', count: 2 })]);
    expect(await ledgerReady(a)).toBe(true);
    expect(await ledgerReady(b)).toBe(true);
  });

  it('a stopped server: paid requests 503 ledger_unavailable, nothing settled; then paid again', async () => {
    await server.stop();
    const payment = await signFor(a.url, '/v1/items/pg-down', { account: testAccount(4) });
    try {
      const settles = a.facilitator.calls.settle;
      const refused = await payWith(a.url, '/v1/items/pg-down', payment);
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toMatchObject({ reason: 'ledger_unavailable' });
      expect(a.facilitator.calls.settle).toBe(settles);
      expect(await ledgerReady(a)).toBe(false);
    } finally {
      await server.start();
    }
    // Once the store reaches the server again (a probe), the same signature pays (it was released,
    // not spent); readiness follows the first write that succeeds (src/ledger/health.ts).
    await vi.waitFor(
      async () => expect((await payWith(a.url, '/v1/items/pg-down', payment)).status).toBe(200),
      { timeout: 15_000, interval: 500 },
    );
    expect(await ledgerReady(a)).toBe(true);
    // The reader lost its connections too: it answers again once its own probe finds the server.
    await vi.waitFor(() => expect(reader.writable).toBe(true), { timeout: 15_000, interval: 100 });
    const settled = await reader.list({ states: ['settled'] });
    expect(settled.map((r) => r.path)).toContain('/v1/items/pg-down');
  });
});
