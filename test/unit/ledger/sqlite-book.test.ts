/**
 * SqliteBook: the ledger's SQL on one connection (the writer thread's, and the `ledger` commands').
 * Migrations, the connection's durability settings, readonly opens, and the all-or-nothing ops of a
 * batch. The ops' meaning is the conformance suite's (test/helpers/ledger-conformance.ts, run through SqliteLedger).
 */
import fs from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION, SqliteBook } from '../../../src/ledger/index.js';
import { attemptOf, NEW, paymentFacts, T0 } from '../../helpers/ledger-conformance.js';

describe('SqliteBook', () => {
  let dir: string;
  let file: string;
  let open: Array<{ close(): void }>;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'x402-book-'));
    file = path.join(dir, 'ledger.sqlite');
    open = [];
  });

  afterEach(async () => {
    for (const handle of open) {
      try {
        handle.close();
      } catch {
        // already closed by the test
      }
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  function book(options?: ConstructorParameters<typeof SqliteBook>[1]): SqliteBook {
    const b = new SqliteBook(file, options);
    open.push(b);
    return b;
  }

  function raw(options?: Database.Options): Database.Database {
    const db = new Database(file, options);
    open.push(db);
    return db;
  }

  /** Every table and index of the file, by type and name. */
  function schemaOf(db: Database.Database): string[] {
    return (
      db
        .prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        .all() as Array<{ type: string; name: string }>
    )
      .map((r) => `${r.type} ${r.name}`)
      .sort();
  }

  const EXPECTED_SCHEMA = [
    'index attempts_payment',
    'index payments_created',
    'index payments_open',
    'index resolutions_key',
    'table attempts',
    'table payments',
    'table resolutions',
    'table schema_version',
  ];

  describe('migrations', () => {
    it('creates a missing file at the latest schema', () => {
      expect(existsSync(file)).toBe(false);
      const b = book();
      expect(schemaOf(b.db)).toEqual(EXPECTED_SCHEMA);
      expect(b.db.prepare('SELECT version FROM schema_version').all()).toEqual([
        { version: SCHEMA_VERSION },
      ]);
      expect(SCHEMA_VERSION).toBe(MIGRATIONS.at(-1)!.version);
    });

    it('migrates an empty file', async () => {
      await fs.writeFile(file, '');
      const b = book();
      expect(schemaOf(b.db)).toEqual(EXPECTED_SCHEMA);
      expect(b.db.prepare('SELECT version FROM schema_version').all()).toEqual([
        { version: SCHEMA_VERSION },
      ]);
      expect(b.write([{ op: 'begin', facts: paymentFacts(), at: T0 }])).toEqual([NEW]);
    });

    it('reopens idempotently: nothing is migrated twice and the records stay', () => {
      const facts = paymentFacts();
      const first = book();
      first.write([{ op: 'begin', facts, at: T0 }]);
      first.close();
      for (let i = 0; i < 2; i++) book().close();

      const again = book();
      expect(schemaOf(again.db)).toEqual(EXPECTED_SCHEMA);
      expect(again.db.prepare('SELECT version FROM schema_version').all()).toEqual([
        { version: SCHEMA_VERSION },
      ]);
      expect(again.get(facts.key)?.state).toBe('settling');
      expect(book({ readonly: true }).get(facts.key)?.state).toBe('settling');
    });

    it('leaves a file as it was when a migration fails', () => {
      // A file that holds a `payments` table of its own, and no schema_version: migration 1's
      // CREATE TABLE fails, and the migration's one transaction is rolled back.
      const db = raw();
      db.exec('CREATE TABLE payments (other TEXT)');
      db.close();
      expect(() => book()).toThrow(/payments already exists/);
      const after = raw({ readonly: true });
      expect(schemaOf(after)).toEqual(['table payments']);
    });
  });

  describe('the connection', () => {
    it('writes in WAL mode with synchronous=FULL, waiting 5 s for a lock by default', () => {
      const b = book();
      expect(b.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(b.db.pragma('synchronous', { simple: true })).toBe(2);
      expect(b.db.pragma('busy_timeout', { simple: true })).toBe(5_000);
      b.close();
      expect(book({ busyTimeoutMs: 250 }).db.pragma('busy_timeout', { simple: true })).toBe(250);
    });

    it('keeps WAL mode in the file: a later connection finds it', () => {
      book().close();
      expect(raw({ readonly: true }).pragma('journal_mode', { simple: true })).toBe('wal');
    });
  });

  describe('readonly', () => {
    it('refuses a missing file, and creates none', () => {
      let error: unknown;
      try {
        book({ readonly: true });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        code: 'SQLITE_CANTOPEN',
        message: 'unable to open database file',
      });
      expect(existsSync(file)).toBe(false);
    });

    it('refuses a file the gateway never migrated, and says what to do', async () => {
      await fs.writeFile(file, '');
      expect(() => book({ readonly: true })).toThrow(
        `the ledger's schema is version 0; this gateway writes ${SCHEMA_VERSION}: start the gateway once to migrate it`,
      );
      expect((await fs.stat(file)).size).toBe(0);
    });

    it('reads, and every write fails', () => {
      const facts = paymentFacts();
      const writer = book();
      writer.write([{ op: 'begin', facts, at: T0 }]);
      const reader = book({ readonly: true });
      expect(reader.get(facts.key)?.state).toBe('settling');
      const [result] = reader.write([
        { op: 'change', key: facts.key, from: ['settling'], change: { state: 'settled' } },
      ]);
      expect(result).toBeInstanceOf(Error);
      expect(result).toMatchObject({ code: 'SQLITE_READONLY' });
      expect(writer.get(facts.key)?.state).toBe('settling');
    });
  });

  describe('write', () => {
    it('answers each op of a batch in order; a refused one fails alone', () => {
      const good = paymentFacts();
      const bad = paymentFacts({ amount: '1.0' });
      const b = book();
      const results = b.write([
        { op: 'begin', facts: good, at: T0 },
        { op: 'begin', facts: bad, at: T0 },
        { op: 'change', key: good.key, from: ['settling'], change: { state: 'unknown', at: T0 } },
        { op: 'attempt', attempt: attemptOf(good.key, { delivered: false }) },
      ]);
      expect(results[0]).toEqual(NEW);
      expect(results[1]).toMatchObject({ code: 'SQLITE_CONSTRAINT_CHECK' });
      expect(results[2]).toEqual({ kind: 'changed', changed: true, from: 'settling' });
      expect(results[3]).toEqual({ kind: 'done' });
      expect(b.get(good.key)?.state).toBe('unknown');
      expect(b.get(bad.key)).toBeUndefined();
    });

    it('makes each op all or nothing: a change whose resolution cannot be written is undone', () => {
      const facts = paymentFacts();
      const b = book();
      b.write([{ op: 'begin', facts, at: T0 }]);
      b.db.exec(
        "CREATE TRIGGER no_resolutions BEFORE INSERT ON resolutions BEGIN SELECT RAISE(FAIL, 'refused'); END;",
      );
      const change = { state: 'failed' as const, detail: 'expired', at: T0 + 1 };
      const [result] = b.write([
        { op: 'change', key: facts.key, from: ['settling'], change, by: 'reconciler' },
      ]);
      expect(result).toBeInstanceOf(Error);
      expect(b.get(facts.key)).toMatchObject({
        state: 'settling',
        detail: undefined,
        updatedAt: T0,
      });
      expect(b.resolutions(facts.key)).toEqual([]);
    });
  });

  it('iterates every record oldest first, from a time', () => {
    const b = book();
    const facts = [paymentFacts(), paymentFacts(), paymentFacts()];
    b.write([
      { op: 'begin', facts: facts[2]!, at: T0 + 2 },
      { op: 'begin', facts: facts[0]!, at: T0 },
      { op: 'audit', facts: facts[1]!, state: 'released', at: T0 + 1 },
    ]);
    expect([...b.iterate()].map((r) => r.key)).toEqual(facts.map((f) => f.key));
    expect([...b.iterate({ since: T0 + 1 })].map((r) => r.key)).toEqual(
      facts.slice(1).map((f) => f.key),
    );
  });
});
