/**
 * PostgresLedger: the LedgerStore conformance suite on a real Postgres (test/helpers/postgres-
 * server.ts: Debian's postgresql, a throwaway cluster on a free port), then what a fleet needs:
 * two instances on one database never both move a record, a stopped server fails writes closed and
 * a restarted one is written again by the same store, a deadline bounds a blocked write, the schema
 * refuses a newer version, and the location never shows the password.
 *
 * One server for the file; each test gets a fresh schema (a URL whose search_path names it).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  NewerSchemaError,
  POSTGRES_MIGRATIONS,
  POSTGRES_SCHEMA_VERSION,
  PostgresLedger,
  type LedgerHooks,
  type PostgresLedgerOptions,
} from '../../../src/ledger/index.js';
import {
  ledgerConformance,
  ledgerError,
  NEW,
  paymentFacts,
  T0,
} from '../../helpers/ledger-conformance.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';

let server: PostgresServer;
let schemas = 0;

beforeAll(async () => {
  // fsync off: these tests kill no machine (see the crash test, on a server of its own).
  server = await startPostgres();
}, 60_000);

afterAll(async () => {
  await server?.remove();
});

async function freshUrl(): Promise<string> {
  schemas += 1;
  return server.createSchema(`t${schemas}`);
}

/**
 * The conformance suite shares one schema: each test's store starts on emptied tables (creating a
 * schema and its tables per test costs more than most tests). Migrating a fresh one is tested below.
 */
let conformanceUrl: string | undefined;
ledgerConformance(
  'PostgresLedger',
  async (hooks) => {
    if (conformanceUrl === undefined) conformanceUrl = await server.createSchema('conformance');
    else
      await server.sql(
        'TRUNCATE conformance.payments, conformance.attempts, conformance.resolutions',
      );
    return {
      store: new PostgresLedger({ url: conformanceUrl, hooks }),
      cleanup: () => Promise.resolve(),
    };
  },
  {
    // Another instance on the same book (the suite's schema), with its owner name.
    owned: (owner) => new PostgresLedger({ url: conformanceUrl!, owner }),
  },
);

describe('PostgresLedger', () => {
  const open: PostgresLedger[] = [];

  afterAll(async () => {
    await Promise.all(open.map((l) => l.close()));
  });

  async function opened(
    url: string,
    options: Partial<PostgresLedgerOptions> = {},
  ): Promise<PostgresLedger> {
    const ledger = new PostgresLedger({ url, ...options });
    open.push(ledger);
    await ledger.open();
    return ledger;
  }

  it('is kind postgres, and its location never shows the password', () => {
    const ledger = new PostgresLedger({ url: 'postgres://gw:s3cret@db.internal:5433/ledger' });
    expect(ledger.kind).toBe('postgres');
    expect(ledger.location).toBe('postgres://gw@db.internal:5433/ledger');
    expect(
      new PostgresLedger({ url: 'postgresql://db/ledger?password=s3cret&sslmode=require' })
        .location,
    ).not.toContain('s3cret');
    expect(new PostgresLedger({ url: 'not a url s3cret' }).location).not.toContain('s3cret');
    expect(ledger.writable).toBe(false);
  });

  describe('two instances on one database', () => {
    it('race the same change: exactly one moves the record, the other is told it moved', async () => {
      const url = await freshUrl();
      const [a, b] = await Promise.all([opened(url), opened(url)]);
      const records = Array.from({ length: 50 }, () => paymentFacts());
      await Promise.all(records.map((f) => a.begin(f, T0)));
      await Promise.all(records.map((f) => a.change(f.key, ['settling'], { state: 'unknown' })));

      // Both reconcilers resolve every unknown record at once, each to its own answer.
      const [fromA, fromB] = await Promise.all([
        Promise.all(
          records.map((f) =>
            a.change(f.key, ['unknown'], { state: 'settled', at: T0 + 1 }, 'reconciler', 'a'),
          ),
        ),
        Promise.all(
          records.map((f) =>
            b.change(f.key, ['unknown'], { state: 'failed', at: T0 + 2 }, 'reconciler', 'b'),
          ),
        ),
      ]);
      for (let i = 0; i < records.length; i++) {
        const ra = fromA[i]!;
        const rb = fromB[i]!;
        const moves = [ra, rb].filter((r) => r.kind === 'changed' && r.changed);
        expect(moves).toHaveLength(1);
        const loser = ra.kind === 'changed' && ra.changed ? rb : ra;
        const winnerState = ra.kind === 'changed' && ra.changed ? 'settled' : 'failed';
        // The loser saw the state the winner left (it waited for the row's lock).
        expect(loser).toEqual({ kind: 'changed', changed: false, from: winnerState });
        const key = records[i]!.key;
        expect((await b.get(key))?.state).toBe(winnerState);
        const resolved = await a.resolutions(key);
        expect(resolved).toHaveLength(1);
        expect(resolved[0]).toMatchObject({ from: 'unknown', to: winnerState, by: 'reconciler' });
      }
    });

    it('race changes of many records in opposite orders: deadlocks are retried, each record moves once', async () => {
      const url = await freshUrl();
      const [a, b] = await Promise.all([opened(url), opened(url)]);
      const records = Array.from({ length: 40 }, () => paymentFacts());
      await Promise.all(records.map((f) => a.begin(f, T0)));
      const [fromA, fromB] = await Promise.all([
        Promise.all(records.map((f) => a.change(f.key, ['settling'], { state: 'unknown' }))),
        Promise.all(
          [...records]
            .reverse()
            .map((f) => b.change(f.key, ['settling'], { state: 'unknown' }, 'reconciler')),
        ),
      ]);
      const moved = [...fromA, ...fromB].filter((r) => r.kind === 'changed' && r.changed);
      expect(moved).toHaveLength(records.length);
      expect(await a.unresolved()).toEqual({ counts: { unknown: 40 }, oldestAt: T0 });
    });

    it('race begins of one key: one begins it, the other gets the conflict', async () => {
      const url = await freshUrl();
      const [a, b] = await Promise.all([opened(url), opened(url)]);
      for (let i = 0; i < 20; i++) {
        const facts = paymentFacts();
        const results = await Promise.all([
          a.begin({ ...facts, digest: 'from-a' }, T0),
          b.begin({ ...facts, digest: 'from-b' }, T0),
        ]);
        expect(results.filter((r) => r.kind === 'begun')).toEqual([NEW]);
        expect(results.filter((r) => r.kind === 'conflict')).toEqual([
          { kind: 'conflict', state: 'settling' },
        ]);
      }
    });

    it('redeem from both never goes beyond max', async () => {
      const url = await freshUrl();
      const [a, b] = await Promise.all([opened(url), opened(url)]);
      const facts = paymentFacts();
      await a.begin(facts, T0);
      await a.change(facts.key, ['settling'], { state: 'settled', at: T0 });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).redeem(facts.key, 7, T0 + i)),
      );
      expect(results.filter((r) => r.kind === 'changed' && r.changed)).toHaveLength(7);
      expect((await b.get(facts.key))?.redemptions).toBe(7);
      expect(await a.resolutions(facts.key)).toHaveLength(7);
    });

    it('both open an empty database at once: one migrates, both write', async () => {
      const url = await freshUrl();
      const [a, b] = await Promise.all([opened(url), opened(url)]);
      expect(await a.begin(paymentFacts(), T0)).toEqual(NEW);
      expect(await b.begin(paymentFacts(), T0)).toEqual(NEW);
      expect(await a.list()).toHaveLength(2);
    });
  });

  describe('the schema', () => {
    it('is migrated once and found current when opened again', async () => {
      const url = await freshUrl();
      const first = await opened(url);
      const kept = paymentFacts();
      await first.begin(kept, T0);
      await first.close();
      const again = await opened(url);
      expect(await again.get(kept.key)).toMatchObject({ state: 'settling' });
      const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
      const { rows } = await server.sql(`SELECT version FROM "${schema}".schema_version`);
      expect(rows).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
    });

    it('migrates a version 1 database forward to the heartbeat table and owners, keeping its records', async () => {
      const url = await freshUrl();
      const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
      const kept = paymentFacts();
      const writer = await opened(url);
      await writer.begin(kept, T0);
      await writer.close();
      // The book as a version 1 gateway left it: later versions' table and column gone, 1 recorded.
      await server.sql(`DROP TABLE "${schema}".instances`);
      await server.sql(`ALTER TABLE "${schema}".payments DROP COLUMN owner`);
      await server.sql(`UPDATE "${schema}".schema_version SET version = 1`);
      expect(POSTGRES_MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3]);

      const again = await opened(url);
      try {
        expect(await again.get(kept.key)).toMatchObject({ state: 'settling' });
        const facts = { host: 'h', pid: 1, worker: undefined, replayStore: 'memory' } as const;
        expect(await again.joinFleet(facts)).toEqual([]);
        const { rows: found } = await server.sql(`SELECT host FROM "${schema}".instances`);
        expect(found).toEqual([{ host: 'h' }]);
      } finally {
        await again.close();
      }
      const { rows } = await server.sql(`SELECT version FROM "${schema}".schema_version`);
      expect(rows).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
    });

    it('migrates version 2 to owners: records written before are nobody’s until adopted; migrate: false refuses', async () => {
      const url = await freshUrl();
      const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
      const old = paymentFacts({ amount: '42' });
      const writer = await opened(url);
      await writer.begin(old, T0);
      await writer.change(old.key, ['settling'], { state: 'settled', at: T0 + 1 });
      await writer.close();
      // As a version 2 gateway left it.
      await server.sql(`ALTER TABLE "${schema}".payments DROP COLUMN owner`);
      await server.sql(`UPDATE "${schema}".schema_version SET version = 2`);

      // An operator's command does not migrate: refused, the schema left at 2.
      const command = new PostgresLedger({ url, migrate: false });
      const refused = await ledgerError(command.open(), 'open');
      expect(refused.message).toContain('its schema is version 2, older than this command');
      const { rows: still } = await server.sql(`SELECT version FROM "${schema}".schema_version`);
      expect(still).toEqual([{ version: 2 }]);

      const gateway = await opened(url, { owner: 'gw-a' });
      expect((await gateway.get(old.key))?.owner).toBeUndefined();
      expect(await gateway.revenue({ owner: 'gw-a' })).toEqual([]);
      expect(await gateway.adopt()).toEqual([expect.objectContaining({ amount: '42', count: 1 })]);
      expect(await gateway.revenue({ owner: 'gw-a' })).toEqual([
        expect.objectContaining({ amount: '42', count: 1 }),
      ]);
      const { rows } = await server.sql(`SELECT version FROM "${schema}".schema_version`);
      expect(rows).toEqual([{ version: POSTGRES_SCHEMA_VERSION }]);
    });

    it('refuses a database written by a newer gateway, and leaves it alone', async () => {
      const url = await freshUrl();
      const first = await opened(url);
      await first.close();
      const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
      const newer = POSTGRES_SCHEMA_VERSION + 1;
      await server.sql(`UPDATE "${schema}".schema_version SET version = ${newer}`);
      const onError = vi.fn();
      const ledger = new PostgresLedger({ url, hooks: { onError } });
      const error = await ledgerError(ledger.open(), 'open');
      expect(error.message).toContain(`version ${newer}`);
      expect(error.message).toContain(`this gateway's ${POSTGRES_SCHEMA_VERSION}`);
      expect(error.cause).toBeInstanceOf(NewerSchemaError);
      expect(ledger.writable).toBe(false);
      const { rows } = await server.sql(`SELECT version FROM "${schema}".schema_version`);
      expect(rows).toEqual([{ version: newer }]);
    });

    it('fails open with kind open when the server cannot be reached, never naming the password', async () => {
      const ledger = new PostgresLedger({
        url: `postgres://postgres:s3cret@127.0.0.1:1/ledger`,
        connectTimeoutMs: 2_000,
      });
      const error = await ledgerError(ledger.open(), 'open');
      expect(error.message).not.toContain('s3cret');
      expect(ledger.writable).toBe(false);
      await ledgerError(ledger.begin(paymentFacts(), T0), 'unavailable');
    });
  });

  it('a write blocked by another session’s lock fails within the deadline, then writes again', async () => {
    const url = await freshUrl();
    const onError = vi.fn<NonNullable<LedgerHooks['onError']>>();
    const ledger = await opened(url, { statementTimeoutMs: 500, hooks: { onError } });
    const facts = paymentFacts();
    await ledger.begin(facts, T0);
    const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
    const { Client } = (await import('pg')).default;
    const locker = new Client({ connectionString: server.url() });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM "${schema}".payments WHERE key = $1 FOR UPDATE`, [
        facts.key,
      ]);
      const started = Date.now();
      await ledgerError(
        ledger.change(facts.key, ['settling'], { state: 'settled' }),
        'unavailable',
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(onError).toHaveBeenCalledWith('unavailable', expect.any(Error));
      // A deadline is not a lost server: still writable.
      expect(ledger.writable).toBe(true);
      await locker.query('ROLLBACK');
    } finally {
      await locker.end();
    }
    const moved = await ledger.change(facts.key, ['settling'], { state: 'settled', at: T0 + 1 });
    expect(moved).toEqual({ kind: 'changed', changed: true, from: 'settling' });
  });

  it('a server that stops answering (a hung backend) fails the write within the deadline', async () => {
    const url = await freshUrl();
    const ledger = await opened(url, { statementTimeoutMs: 500, maxConnections: 2 });
    await ledger.begin(paymentFacts(), T0);
    const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
    const { rows } = await server.sql(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'x402-gateway'
         AND backend_type = 'client backend'`,
    );
    const pids = rows.map((r: { pid: number }) => r.pid);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      // Its connection is frozen: neither the server's statement_timeout nor an error comes back.
      await ledgerError(ledger.begin(paymentFacts(), T0), 'unavailable');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    await vi.waitFor(() => expect(ledger.writable).toBe(true), { timeout: 15_000, interval: 100 });
    expect(await ledger.begin(paymentFacts(), T0)).toEqual(NEW);
    void schema;
  });

  it('a committed write survives the server crashing (immediate stop, WAL replay on start)', async () => {
    // Its own server, with fsync on as in production: what COMMIT acknowledged is in the WAL on
    // disk. (A killed process cannot lose the page cache, so this proves the replay; fsync is what
    // makes it hold for a power cut too.)
    const durable = await startPostgres({ fsync: true });
    try {
      const url = await durable.createSchema('crash');
      const ledger = await opened(url, { connectTimeoutMs: 2_000 });
      const facts = Array.from({ length: 20 }, () => paymentFacts());
      await Promise.all(facts.map((f) => ledger.begin(f, T0)));
      await ledger.change(facts[0]!.key, ['settling'], { state: 'settled', at: T0 + 1 });
      await durable.stop('immediate');
      await durable.start();
      await vi.waitFor(() => expect(ledger.writable).toBe(true), {
        timeout: 15_000,
        interval: 100,
      });
      expect(await ledger.list()).toHaveLength(20);
      expect(await ledger.get(facts[0]!.key)).toMatchObject({
        state: 'settled',
        settledAt: T0 + 1,
      });
      await ledger.close();
    } finally {
      await durable.remove();
    }
  });

  // Last: it stops the file's server (and starts it again).
  it('a stopped server fails writes closed; once it is back, the same store writes again', async () => {
    const url = await freshUrl();
    const onError = vi.fn<NonNullable<LedgerHooks['onError']>>();
    const ledger = await opened(url, { connectTimeoutMs: 2_000, hooks: { onError } });
    const kept = paymentFacts();
    await ledger.begin(kept, T0);
    expect(ledger.writable).toBe(true);

    await server.stop();
    try {
      await ledgerError(ledger.begin(paymentFacts(), T0), 'unavailable');
      expect(ledger.writable).toBe(false);
      expect(onError).toHaveBeenCalledWith('unavailable', expect.any(Error));
      // Refused at once while down: reads and writes, never a free pass.
      await ledgerError(ledger.begin(paymentFacts(), T0), 'unavailable');
      await ledgerError(ledger.get(kept.key), 'unavailable');
      const onAppendError = onError.mock.calls.length;
      ledger.attempt({
        key: kept.key,
        requestId: 'r',
        outcome: 'paid',
        status: 200,
        served: true,
        delivered: true,
        startedAt: T0,
        endedAt: T0,
      });
      expect(onError.mock.calls.length).toBe(onAppendError + 1);
    } finally {
      await server.start();
    }
    await vi.waitFor(() => expect(ledger.writable).toBe(true), { timeout: 15_000, interval: 100 });
    expect(await ledger.get(kept.key)).toMatchObject({ state: 'settling' });
    expect(await ledger.begin(paymentFacts(), T0)).toEqual(NEW);
  });
});
