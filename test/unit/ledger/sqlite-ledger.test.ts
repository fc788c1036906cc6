/**
 * SqliteLedger: the LedgerStore conformance suite on a real file, then what only SQLite does: the
 * records outlive the process, readers see them, the schema version is guarded, write failures and a
 * dead writer thread fail closed, writes are grouped into few transactions, and backups are online.
 *
 * The writer thread is reached through `node:worker_threads` itself: the mock below only records
 * every Worker the ledger starts, so a test can terminate one (src/ledger is not changed for it).
 */
import fs from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LedgerUnavailableError,
  NewerSchemaError,
  SCHEMA_VERSION,
  SqliteBook,
  SqliteLedger,
  type LedgerHooks,
  type LedgerStore,
  type SqliteLedgerOptions,
} from '../../../src/ledger/index.js';
import {
  attemptOf,
  ledgerConformance,
  ledgerError,
  NEW,
  paymentFacts,
  T0,
} from '../../helpers/ledger-conformance.js';

const spawned = vi.hoisted(() => [] as Array<import('node:worker_threads').Worker>);

vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  class RecordedWorker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      super(...args);
      spawned.push(this);
    }
  }
  return { ...original, Worker: RecordedWorker };
});

function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'x402-ledger-'));
}

/**
 * The conformance suite runs on one SqliteLedger for the whole file: starting a writer thread costs
 * a few hundred ms (tsx compiles it inside the thread), too much for each of its tests. Each test
 * gets a view of it whose open() empties the three tables (from a second connection, while the
 * writer is idle) and whose close() waits until everything the test queued is answered. Opening,
 * closing and reopening a real file are tested by the SQLite tests below.
 */
function sharedSqliteLedger(): (hooks?: LedgerHooks) => Promise<{
  store: LedgerStore;
  cleanup(): Promise<void>;
}> {
  let hooks: LedgerHooks = {};
  let shared: { dir: string; ledger: SqliteLedger; side: Database.Database } | undefined;
  afterAll(async () => {
    if (shared === undefined) return;
    shared.side.close();
    await shared.ledger.close();
    await fs.rm(shared.dir, { recursive: true, force: true });
  });
  return async (given = {}) => {
    hooks = given;
    if (shared === undefined) {
      const dir = await tempDir();
      const file = path.join(dir, 'ledger.sqlite');
      const ledger = new SqliteLedger({
        path: file,
        hooks: {
          onWrite: (seconds) => hooks.onWrite?.(seconds),
          onMove: (from, to) => hooks.onMove?.(from, to),
          onError: (kind, error) => hooks.onError?.(kind, error),
        },
      });
      await ledger.open();
      const side = new Database(file);
      side.pragma('busy_timeout = 5000');
      shared = { dir, ledger, side };
    }
    const { ledger, side } = shared;
    const store: LedgerStore = {
      kind: ledger.kind,
      location: ledger.location,
      get writable() {
        return ledger.writable;
      },
      open: () => {
        side.exec('DELETE FROM payments; DELETE FROM attempts; DELETE FROM resolutions;');
        return Promise.resolve();
      },
      // Ops are answered in order: once this read is, so is every write queued before it.
      close: async () => void (await ledger.get('')),
      begin: (facts, at) => ledger.begin(facts, at),
      change: (key, from, change, by, note) => ledger.change(key, from, change, by, note),
      redeem: (key, max, at) => ledger.redeem(key, max, at),
      audit: (facts, state, at) => ledger.audit(facts, state, at),
      attempt: (attempt) => ledger.attempt(attempt),
      get: (key) => ledger.get(key),
      list: (filter) => ledger.list(filter),
      attempts: (key) => ledger.attempts(key),
      resolutions: (key) => ledger.resolutions(key),
      revenue: () => ledger.revenue(),
      unresolved: () => ledger.unresolved(),
      backup: (to) => ledger.backup(to),
    };
    return { store, cleanup: () => Promise.resolve() };
  };
}

ledgerConformance('SqliteLedger', sharedSqliteLedger());

describe('SqliteLedger on its file', () => {
  let dir: string;
  let file: string;
  let ledgers: SqliteLedger[];
  let connections: Database.Database[];

  beforeEach(async () => {
    dir = await tempDir();
    file = path.join(dir, 'ledger.sqlite');
    ledgers = [];
    connections = [];
    // Count only the writers this test starts (the conformance suite's shared one is its own).
    spawned.length = 0;
  });

  afterEach(async () => {
    for (const db of connections) if (db.open) db.close();
    for (const ledger of ledgers) await ledger.close();
    // A writer a test left behind (a known bug below) must not keep this process alive.
    await Promise.all(spawned.splice(0).map((w) => w.terminate()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  function ledgerAt(options: Partial<SqliteLedgerOptions> = {}): SqliteLedger {
    const ledger = new SqliteLedger({ path: file, ...options });
    ledgers.push(ledger);
    return ledger;
  }

  async function opened(hooks?: LedgerHooks): Promise<SqliteLedger> {
    const ledger = ledgerAt(hooks === undefined ? {} : { hooks });
    await ledger.open();
    return ledger;
  }

  /** A second connection to the ledger's file, as an operator's tool would open it. */
  function connect(options?: Database.Options): Database.Database {
    const db = new Database(file, options);
    connections.push(db);
    return db;
  }

  it('is kind sqlite, at its path', () => {
    const ledger = ledgerAt();
    expect(ledger.kind).toBe('sqlite');
    expect(ledger.location).toBe(file);
    expect(ledger.writable).toBe(false);
  });

  it('refuses calls before open() and starts no writer for them', async () => {
    const onError = vi.fn();
    const ledger = ledgerAt({ hooks: { onError } });
    await ledgerError(ledger.get('k'), 'unavailable');
    await ledgerError(ledger.begin(paymentFacts(), T0), 'unavailable');
    ledger.audit(paymentFacts(), 'released', T0);
    expect(onError).toHaveBeenCalledWith('unavailable', expect.any(LedgerUnavailableError));
    expect(ledger.writable).toBe(false);
    expect(spawned).toHaveLength(0);
    await ledger.open();
    expect(spawned).toHaveLength(1);
    expect(ledger.writable).toBe(true);
  });

  it('keeps every record, attempt and resolution across close and reopen', async () => {
    const onWrite = vi.fn();
    const first = await opened({ onWrite });
    const facts = paymentFacts();
    await first.begin(facts, T0);
    await first.change(facts.key, ['settling'], {
      state: 'settled',
      transaction: '0xabc',
      at: T0 + 1,
    });
    first.attempt(attemptOf(facts.key, { delivered: false, endedAt: T0 + 2 }));
    await first.redeem(facts.key, 1, T0 + 3);
    first.attempt(attemptOf(facts.key, { outcome: 'redeemed', endedAt: T0 + 3 }));
    await first.change(facts.key, ['settled'], { state: 'confirmed', at: T0 + 4 }, 'reconciler');
    expect(onWrite).toHaveBeenCalledTimes(4);
    for (const [seconds] of onWrite.mock.calls as Array<[number]>) {
      expect(seconds).toBeGreaterThanOrEqual(0);
    }
    const record = await first.get(facts.key);
    const attempts = await first.attempts(facts.key);
    const resolutions = await first.resolutions(facts.key);
    await first.close();
    expect(first.writable).toBe(false);

    const second = await opened();
    expect(await second.get(facts.key)).toEqual(record);
    expect(record).toMatchObject({
      state: 'confirmed',
      deliveredAt: T0 + 3,
      redemptions: 1,
      confirmedAt: T0 + 4,
    });
    expect(await second.attempts(facts.key)).toEqual(attempts);
    expect(attempts).toHaveLength(2);
    expect(await second.resolutions(facts.key)).toEqual(resolutions);
    expect(resolutions.map((r) => r.by)).toEqual(['redemption', 'reconciler']);
  });

  it('close writes what is still queued: an unawaited begin and attempt are kept', async () => {
    const ledger = await opened();
    const facts = paymentFacts();
    const begun = ledger.begin(facts, T0);
    ledger.attempt(attemptOf(facts.key, { delivered: false }));
    await ledger.close();
    expect(await begun).toEqual(NEW);

    const book = new SqliteBook(file, { readonly: true });
    try {
      expect(book.get(facts.key)?.state).toBe('settling');
      expect(book.attempts(facts.key)).toHaveLength(1);
    } finally {
      book.close();
    }
  });

  it('lets a readonly SqliteBook read the records while the gateway writes', async () => {
    const ledger = await opened();
    const facts = paymentFacts({ amount: '9007199254740993' });
    await ledger.begin(facts, T0);
    await ledger.change(facts.key, ['settling'], { state: 'settled', at: T0 + 1 });
    const book = new SqliteBook(file, { readonly: true });
    try {
      expect(book.get(facts.key)).toEqual(await ledger.get(facts.key));
      expect(book.list()).toEqual(await ledger.list());
      expect(book.revenue()).toEqual(await ledger.revenue());
      // The reader sees later commits too.
      const later = paymentFacts();
      await ledger.begin(later, T0 + 2);
      expect(book.get(later.key)?.state).toBe('settling');
      expect(book.unresolved()).toEqual({ counts: { settling: 1 }, oldestAt: T0 + 2 });
    } finally {
      book.close();
    }
  });

  it('writes a WAL file whose schema_version holds SCHEMA_VERSION', async () => {
    await opened();
    // Bytes 18 and 19 of the header are 2 in WAL mode (1 for a rollback journal).
    const header = readFileSync(file).subarray(0, 20);
    expect([header[18], header[19]]).toEqual([2, 2]);
    const db = connect({ readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([
      { version: SCHEMA_VERSION },
    ]);
  });

  describe('a file written by a newer gateway', () => {
    const newer = SCHEMA_VERSION + 1;

    beforeEach(() => {
      new SqliteBook(file).close();
      const db = new Database(file);
      db.prepare('UPDATE schema_version SET version = ?').run(newer);
      db.close();
    });

    it('is refused by SqliteBook, readonly or not, with NewerSchemaError', () => {
      for (const readonly of [false, true]) {
        let error: unknown;
        try {
          new SqliteBook(file, { readonly }).close();
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(NewerSchemaError);
        expect(error).toMatchObject({ code: 'GW_ERR_LEDGER_SCHEMA' });
      }
    });

    it('is refused by SqliteLedger.open with kind open, naming both versions; the file is untouched', async () => {
      const onError = vi.fn();
      const ledger = ledgerAt({ hooks: { onError } });
      const error = await ledgerError(ledger.open(), 'open');
      expect(error.message).toContain(`version ${newer}`);
      expect(error.message).toContain(`this gateway's ${SCHEMA_VERSION}`);
      expect(error.message).toContain(file);
      expect(ledger.writable).toBe(false);
      const db = connect({ readonly: true });
      expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: newer }]);
    });
  });

  it('fails open with kind open when the file cannot be created', async () => {
    file = path.join(dir, 'no', 'such', 'dir', 'ledger.sqlite');
    const ledger = ledgerAt();
    await ledgerError(ledger.open(), 'open');
    expect(ledger.writable).toBe(false);
    expect(existsSync(file)).toBe(false);
  });

  describe('a write the database refuses', () => {
    async function withFailingInserts() {
      const onError = vi.fn<NonNullable<LedgerHooks['onError']>>();
      const ledger = await opened({ onError });
      const settling = paymentFacts();
      await ledger.begin(settling, T0);
      const db = connect();
      db.exec(
        "CREATE TRIGGER t BEFORE INSERT ON payments BEGIN SELECT RAISE(FAIL, 'disk full'); END;",
      );
      return { ledger, onError, settling, db };
    }

    it('rejects begin with kind write and reports it to onError', async () => {
      const { ledger, onError, settling } = await withFailingInserts();
      const facts = paymentFacts();
      const [refused, moved] = await Promise.allSettled([
        ledger.begin(facts, T0),
        // In the same batch: a write the trigger does not touch is made.
        ledger.change(settling.key, ['settling'], { state: 'unknown', at: T0 + 1 }),
      ]);
      expect(refused?.status).toBe('rejected');
      const error = await ledgerError(ledger.begin(facts, T0), 'write');
      expect(error.message).toContain('disk full');
      expect(onError).toHaveBeenCalledWith('write', expect.any(LedgerUnavailableError));
      expect(onError.mock.calls.every(([kind]) => kind === 'write')).toBe(true);
      expect(moved).toEqual({
        status: 'fulfilled',
        value: { kind: 'changed', changed: true, from: 'settling' },
      });
      expect(await ledger.get(facts.key)).toBeUndefined();
      // Still open: the next writes that can be made are.
      expect(ledger.writable).toBe(true);
    });

    it('reports an audit that could not be written to onError', async () => {
      const { ledger, onError } = await withFailingInserts();
      const facts = paymentFacts();
      ledger.audit(facts, 'released', T0);
      await vi.waitFor(() => expect(onError).toHaveBeenCalledWith('write', expect.any(Error)), {
        timeout: 5_000,
      });
      expect(onError.mock.calls[0]?.[1].message).toContain('disk full');
      expect(await ledger.get(facts.key)).toBeUndefined();
    });

    it('writes again once the fault is gone', async () => {
      const { ledger, db } = await withFailingInserts();
      const facts = paymentFacts();
      await ledgerError(ledger.begin(facts, T0), 'write');
      db.exec('DROP TRIGGER t');
      expect(await ledger.begin(facts, T0)).toEqual(NEW);
    });
  });

  it('fails waiting writes closed when the writer thread dies, then starts a new one', async () => {
    const onError = vi.fn<NonNullable<LedgerHooks['onError']>>();
    const ledger = await opened({ onError });
    const kept = paymentFacts();
    await ledger.begin(kept, T0);
    expect(spawned).toHaveLength(1);

    // The ledger's clock stands still while the writer is down (so no pause passes by chance),
    // then moves on by more than the pause: nothing here waits on real time.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const dead = spawned[0]!.terminate();
      const waiting = ledger.begin(paymentFacts(), T0);
      await ledgerError(waiting, 'unavailable');
      await dead;
      expect(onError).toHaveBeenCalledWith('unavailable', expect.any(LedgerUnavailableError));
      expect(ledger.writable).toBe(false);
      // Refused, never a free pass, while no writer runs; and no new one before the pause.
      await ledgerError(ledger.begin(paymentFacts(), T0), 'unavailable');
      await ledgerError(ledger.get(kept.key), 'unavailable');
      expect(spawned).toHaveLength(1);

      // After the pause, the next call starts a new writer; that call itself is still refused.
      vi.setSystemTime(Date.now() + 1_500);
      await ledgerError(ledger.begin(paymentFacts(), T0), 'unavailable');
    } finally {
      vi.useRealTimers();
    }
    expect(spawned).toHaveLength(2);
    // A new writer thread boots in well under a second, but a loaded CI machine can take longer.
    await vi.waitFor(() => expect(ledger.writable).toBe(true), { timeout: 15_000, interval: 50 });
    expect(await ledger.get(kept.key)).toMatchObject({ state: 'settling' });
    expect(await ledger.begin(paymentFacts(), T0)).toEqual(NEW);
  });

  it('commits many concurrent writes in few transactions (group commit)', async () => {
    const ledger = await opened();
    const wal = `${file}-wal`;
    // Every commit appends at least one frame (a page and its 24-byte header) to the WAL, which
    // does not shrink while the ledger is open: frames added bound the number of commits.
    const pageSize = readFileSync(wal).readUInt32BE(8);
    const frames = (from: number) => (statSync(wal).size - from) / (pageSize + 24);

    let before = statSync(wal).size;
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => ledger.begin(paymentFacts(), T0 + i)),
    );
    expect(results.every((r) => r.kind === 'begun')).toBe(true);
    const grouped = frames(before);
    expect(grouped).toBeGreaterThan(0);
    expect(grouped).toBeLessThan(50);

    // The measure does see commits: 20 awaited one by one add at least 20 frames.
    before = statSync(wal).size;
    for (let i = 0; i < 20; i++) await ledger.begin(paymentFacts(), T0);
    expect(frames(before)).toBeGreaterThanOrEqual(20);
  });

  it('backs up online: the copy opens readonly with the records, taken while writes go on', async () => {
    const ledger = await opened();
    const before = Array.from({ length: 100 }, () => paymentFacts());
    await Promise.all(before.map((f, i) => ledger.begin(f, T0 + i)));
    await ledger.change(before[0]!.key, ['settling'], { state: 'settled', at: T0 + 500 });

    const during = Array.from({ length: 300 }, () => paymentFacts());
    const copy = path.join(dir, 'backup.sqlite');
    const writes = during.slice(0, 150).map((f) => ledger.begin(f, T0 + 1_000));
    const backup = ledger.backup(copy);
    writes.push(...during.slice(150).map((f) => ledger.begin(f, T0 + 2_000)));
    await Promise.all([backup, ...writes]);

    const live = await ledger.list();
    expect(live).toHaveLength(400);
    const book = new SqliteBook(copy, { readonly: true });
    try {
      expect(book.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const copied = book.list();
      for (const f of before) expect(book.get(f.key)).toEqual(live.find((r) => r.key === f.key));
      expect(copied.length).toBeGreaterThanOrEqual(before.length);
      expect(copied.length).toBeLessThanOrEqual(live.length);
      const liveKeys = new Set(live.map((r) => r.key));
      expect(copied.every((r) => liveKeys.has(r.key))).toBe(true);
    } finally {
      book.close();
    }
  });

  describe('fixed bugs (each test failed before its fix; see its comment)', () => {
    // FIXED (src/ledger/sqlite-book.ts `write`): the batch runs in a DEFERRED transaction whose
    // first statement is a SELECT, so its INSERT must upgrade a read transaction to a write one.
    // When another connection (an operator's `ledger` command) holds the write lock at that moment,
    // SQLite returns SQLITE_BUSY at once without calling the busy handler (it could deadlock), so
    // `busy_timeout` never applies: every write of the batch fails ("database is locked") and the
    // paid requests get 503. Fix: `this.db.transaction(...).immediate()` in `write` (BEGIN
    // IMMEDIATE takes the write lock first, and waits up to busy_timeout for it).
    it('a write waits for another connection’s lock instead of failing', async () => {
      const ledger = await opened();
      const db = connect();
      db.pragma('busy_timeout = 5000');
      db.exec('BEGIN IMMEDIATE');
      db.prepare(
        "INSERT INTO resolutions (key, at, from_state, to_state, by, note) VALUES ('k', 0, 'unknown', 'failed', 'operator', 'by hand')",
      ).run();
      const begun = ledger.begin(paymentFacts(), T0);
      // Hold the lock a moment (no assertion on time: a slow run only makes the test pass early).
      const settled = await Promise.race([
        begun.then(
          () => 'settled',
          () => 'settled',
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve('waiting'), 300)),
      ]);
      db.exec('COMMIT');
      expect(settled).toBe('waiting');
      expect(await begun).toEqual(NEW);
    });

    // FIXED (src/ledger/sqlite-ledger.ts `#send` and `#died`): a write made after close() has
    // started is still queued (the writer is there and ready), reaches the writer after its
    // 'close' and is never answered; when the writer exits, `#died` returns early because the
    // ledger is closing, without rejecting the waiters. The promise never settles: a request that
    // writes during shutdown hangs. Fix: in `#send`, refuse (reject 'unavailable') when
    // `#closing`; in `#died`, reject every remaining waiter even when closing.
    it('a write made while the ledger closes is refused, never left hanging', async () => {
      const ledger = await opened();
      const closing = ledger.close();
      let outcome = 'pending';
      ledger.begin(paymentFacts(), T0).then(
        () => (outcome = 'resolved'),
        () => (outcome = 'rejected'),
      );
      await closing;
      await new Promise((resolve) => setImmediate(resolve));
      expect(outcome).toBe('rejected');
    });
  });
});
