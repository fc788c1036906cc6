/**
 * Heartbeat rows on a shared Postgres ledger, in the whole gateway (src/ledger/postgres-instances.ts,
 * docs/ledger.md §18): a gateway whose replay claims live in its memory refuses to start next to
 * another live instance of the same book, naming it and what to configure; it starts once that one
 * stopped cleanly, or when the other's row is stale; gateways with one shared Redis start side by
 * side, and one of them warns about a live in-memory instance.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayStartError } from '../../src/gateway.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

let server: PostgresServer;
let redis: RedisServer;
let books = 0;

beforeAll(async () => {
  [server, redis] = await Promise.all([startPostgres(), startRedis()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([server?.remove(), redis?.remove()]);
});

/** A fresh book: its URL and its schema's name. */
async function freshBook(): Promise<{ url: string; schema: string }> {
  books += 1;
  const schema = `book${books}`;
  return { url: await server.createSchema(schema), schema };
}

function memoryYaml(url: string): string {
  return `ledger: { postgres: { url: "${url}" } }`;
}

function redisYaml(url: string, prefix: string): string {
  return `${memoryYaml(url)}\nstore:\n  redis:\n    url: ${redis.url}\n    keyPrefix: "${prefix}:"\n`;
}

async function rows(schema: string): Promise<Array<{ replay_store: string; pid: number }>> {
  const { rows: found } = await server.sql(
    `SELECT replay_store, pid FROM "${schema}".instances ORDER BY started_at`,
  );
  return found as Array<{ replay_store: string; pid: number }>;
}

/** A logger whose warnings a test can read. */
function captured(): { log: pino.Logger; lines: () => Array<{ msg: string }> } {
  const out: Array<{ msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        out.push(JSON.parse(line) as { msg: string });
      }
      done();
    },
  });
  return { log: pino({ level: 'warn' }, sink), lines: () => out };
}

describe('instances sharing a Postgres ledger', () => {
  it('an in-memory instance next to a live one refuses to start, naming it; it starts once that one stopped', async () => {
    const { url, schema } = await freshBook();
    const first = await startHarness({ extraYaml: memoryYaml(url) });
    let started: Harness | undefined;
    try {
      expect(await rows(schema)).toEqual([{ replay_store: 'memory', pid: process.pid }]);
      const refused = await startHarness({ extraYaml: memoryYaml(url) }).then(
        (h) => {
          started = h;
          throw new Error('the second in-memory instance started');
        },
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(GatewayStartError);
      const message = (refused as Error).message;
      expect(message).toMatch(/^ledger: another gateway instance is live on this Postgres ledger/);
      expect(message).toContain(`pid ${process.pid}`);
      expect(message).toMatch(/up since \d{4}-\d\d-\d\dT/);
      expect(message).toContain('Configure store.redis (one Redis) on every instance');
      // The refused one left no row behind.
      expect(await rows(schema)).toHaveLength(1);
    } finally {
      await started?.close();
      await first.close();
    }
    // A clean stop deletes the row: the next one starts at once.
    expect(await rows(schema)).toEqual([]);
    const next = await startHarness({ extraYaml: memoryYaml(url) });
    await next.close();
  }, 30_000);

  it('a stale row (no beat within 3 intervals) is ignored and cleaned', async () => {
    const { url, schema } = await freshBook();
    // The schema is created by the first gateway; this one stops, then a crashed one's row is
    // left as it would be: last seen a minute ago, by the database's clock.
    const opener = await startHarness({ extraYaml: memoryYaml(url) });
    await opener.close();
    await server.sql(
      `INSERT INTO "${schema}".instances (id, host, pid, replay_store, started_at, last_seen)
       VALUES ('crashed', 'elsewhere', 4242, 'memory', now() - interval '1 hour',
               now() - interval '1 minute')`,
    );
    const h = await startHarness({ extraYaml: memoryYaml(url) });
    try {
      expect(await rows(schema)).toEqual([{ replay_store: 'memory', pid: process.pid }]);
    } finally {
      await h.close();
    }
  }, 30_000);

  it('a row seen just now counts as live, whatever its start', async () => {
    const { url, schema } = await freshBook();
    const opener = await startHarness({ extraYaml: memoryYaml(url) });
    await opener.close();
    await server.sql(
      `INSERT INTO "${schema}".instances (id, host, pid, worker, replay_store, started_at, last_seen)
       VALUES ('other', 'elsewhere', 4242, 3, 'redis', now() - interval '1 hour',
               now() - interval '5 seconds')`,
    );
    await expect(startHarness({ extraYaml: memoryYaml(url) })).rejects.toThrow(
      /elsewhere pid 4242 \(worker 3\), replay store redis/,
    );
  }, 30_000);

  it('instances with one shared Redis start side by side; one warns about a live in-memory instance', async () => {
    const { url, schema } = await freshBook();
    const unsafe = await startHarness({ extraYaml: memoryYaml(url) });
    const warned = captured();
    const hs: Harness[] = [];
    try {
      hs.push(await startHarness({ extraYaml: redisYaml(url, schema), log: warned.log }));
      hs.push(await startHarness({ extraYaml: redisYaml(url, schema) }));
      expect((await rows(schema)).map((r) => r.replay_store)).toEqual(['memory', 'redis', 'redis']);
      expect(warned.lines().map((l) => l.msg)).toContainEqual(
        expect.stringMatching(
          /a live instance on this Postgres ledger keeps its replay claims in memory \(.* pid \d+, replay store memory/,
        ),
      );
      const metrics = await (await fetch(`${hs[1]!.gateway.adminUrl}/metrics`)).text();
      expect(metrics).toMatch(/^x402_gateway_instances_live 3$/m);
    } finally {
      await Promise.all([unsafe.close(), ...hs.map((h) => h.close())]);
    }
    expect(await rows(schema)).toEqual([]);
  }, 30_000);
});
