/**
 * Heartbeat rows (src/ledger/postgres-instances.ts) through PostgresLedger.joinFleet on a real
 * Postgres: the row is written on join and refreshed by the database's clock, others are seen only
 * while live, a stale row is dropped, a clean close deletes the row, and a failing beat is reported
 * without throwing. Then fleetVerdict: who refuses, who warns.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  fleetVerdict,
  PostgresLedger,
  type InstanceFacts,
  type LiveInstance,
} from '../../../src/ledger/index.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';

let server: PostgresServer;
let schemas = 0;

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.remove();
});

async function freshBook(): Promise<{ url: string; schema: string }> {
  schemas += 1;
  const schema = `hb${schemas}`;
  return { url: await server.createSchema(schema), schema };
}

const MEMORY: InstanceFacts = {
  host: 'a.internal',
  pid: 11,
  worker: undefined,
  replayStore: 'memory',
};
const REDIS: InstanceFacts = { host: 'b.internal', pid: 22, worker: 1, replayStore: 'redis' };

async function opened(url: string, everyMs = 5_000, hooks = {}): Promise<PostgresLedger> {
  const ledger = new PostgresLedger({ url, heartbeat: { everyMs, ...hooks } });
  await ledger.open();
  return ledger;
}

interface Row {
  host: string;
  started_at: Date;
  last_seen: Date;
}

async function rowsOf(schema: string): Promise<Row[]> {
  return (
    await server.sql(`SELECT host, started_at, last_seen FROM "${schema}".instances ORDER BY host`)
  ).rows as Row[];
}

describe('joinFleet on a Postgres ledger', () => {
  it('writes the row, answers the other live instances, and a clean close deletes it', async () => {
    const { url, schema } = await freshBook();
    const a = await opened(url);
    const b = await opened(url);
    try {
      expect(await a.joinFleet(MEMORY)).toEqual([]);
      const seen = await b.joinFleet(REDIS);
      expect(seen).toHaveLength(1);
      const [a1] = seen;
      expect(a1).toMatchObject({ host: 'a.internal', pid: 11, replayStore: 'memory' });
      expect(a1!.worker).toBeUndefined();
      expect(a1!.id).not.toBe('');
      expect(a1!.since).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
      expect((await rowsOf(schema)).map((r) => r.host)).toEqual(['a.internal', 'b.internal']);
      await a.close();
      expect((await rowsOf(schema)).map((r) => r.host)).toEqual(['b.internal']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    expect(await rowsOf(schema)).toEqual([]);
  });

  it('refreshes last_seen every interval by the database clock, and reports the live count', async () => {
    const { url, schema } = await freshBook();
    const onBeat = vi.fn();
    // Both beat on one interval, as gateways do (the window is 3 of them).
    const a = await opened(url, 100, { onBeat });
    const b = await opened(url, 100);
    try {
      await a.joinFleet(MEMORY);
      await b.joinFleet(REDIS);
      await vi.waitFor(
        async () => {
          const [row] = await rowsOf(schema);
          expect(row!.last_seen.getTime()).toBeGreaterThan(row!.started_at.getTime());
          expect(onBeat).toHaveBeenLastCalledWith(2);
        },
        { timeout: 5_000, interval: 50 },
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('ignores and drops a stale row; a beat writes its own row again if it was dropped', async () => {
    const { url, schema } = await freshBook();
    // a beats every second: the stall below is well inside one interval.
    const a = await opened(url, 1_000);
    const b = await opened(url, 1_000);
    try {
      await a.joinFleet(MEMORY);
      // a stalls past its window (as a paused process would): b drops its row and sees it not.
      await server.sql(
        `UPDATE "${schema}".instances SET last_seen = now() - interval '10 seconds'`,
      );
      expect(await b.joinFleet(REDIS)).toEqual([]);
      expect((await rowsOf(schema)).map((r) => r.host)).toEqual(['b.internal']);
      // a's next beat writes its row again.
      await vi.waitFor(
        async () =>
          expect((await rowsOf(schema)).map((r) => r.host)).toEqual(['a.internal', 'b.internal']),
        { timeout: 5_000, interval: 50 },
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a failing beat is reported, never thrown, and the next one succeeds again', async () => {
    const { url, schema } = await freshBook();
    const onError = vi.fn();
    const onBeat = vi.fn();
    const a = await opened(url, 50, { onError, onBeat });
    try {
      await a.joinFleet(MEMORY);
      await server.sql(`ALTER TABLE "${schema}".instances RENAME TO instances_gone`);
      await vi.waitFor(() => expect(onError).toHaveBeenCalled(), { timeout: 5_000, interval: 20 });
      expect(onError.mock.calls[0]![0]).toBeInstanceOf(Error);
      await server.sql(`ALTER TABLE "${schema}".instances_gone RENAME TO instances`);
      onBeat.mockClear();
      await vi.waitFor(() => expect(onBeat).toHaveBeenCalledWith(1), {
        timeout: 5_000,
        interval: 20,
      });
    } finally {
      await a.close();
    }
  });

  it('is refused on a ledger that is not open', async () => {
    const { url } = await freshBook();
    const ledger = new PostgresLedger({ url });
    await expect(ledger.joinFleet(MEMORY)).rejects.toMatchObject({ kind: 'unavailable' });
  });
});

describe('fleetVerdict', () => {
  const other = (facts: InstanceFacts): LiveInstance => ({
    ...facts,
    id: `id-${facts.pid}`,
    since: '2026-12-05T18:00:00.000Z',
  });

  it('alone: starts, whatever its store', () => {
    expect(fleetVerdict('memory', [])).toEqual({ warnings: [] });
    expect(fleetVerdict('redis', [])).toEqual({ warnings: [] });
  });

  it('in memory next to any live instance: refused, naming it and store.redis', () => {
    for (const found of [[other(MEMORY)], [other(REDIS), other(MEMORY)]]) {
      const verdict = fleetVerdict('memory', found);
      expect(verdict.refuse).toContain(`${found[0]!.host} pid ${found[0]!.pid}`);
      expect(verdict.refuse).toContain('up since 2026-12-05T18:00:00.000Z');
      expect(verdict.refuse).toContain('Configure store.redis');
    }
    expect(fleetVerdict('memory', [other(REDIS), other(MEMORY)]).refuse).toContain(
      'b.internal pid 22 (worker 1), replay store redis, up since 2026-12-05T18:00:00.000Z) and 1 more',
    );
  });

  it('with a shared store: starts, warning about each live in-memory instance only', () => {
    expect(fleetVerdict('redis', [other(REDIS)])).toEqual({ warnings: [] });
    const verdict = fleetVerdict('redis', [other(REDIS), other(MEMORY)]);
    expect(verdict.refuse).toBeUndefined();
    expect(verdict.warnings).toHaveLength(1);
    expect(verdict.warnings[0]).toContain('a.internal pid 11, replay store memory');
  });
});
