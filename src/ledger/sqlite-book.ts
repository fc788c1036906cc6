/**
 * The ledger's SQL, synchronous, on one better-sqlite3 connection. The gateway runs it inside a
 * worker thread (sqlite-worker.ts), off the event loop; the `ledger` commands open it directly
 * (the gateway may be stopped). WAL with `synchronous=FULL`: a committed record survives a crash
 * and a power cut, and readers (`sqlite3 -readonly`, reports) never block the writer.
 */
import Database from 'better-sqlite3';
import {
  PAID_STATES,
  UNRESOLVED_STATES,
  type Attempt,
  type LedgerRecord,
  type LedgerState,
  type PaymentFacts,
  type RecordFilter,
  type Resolution,
  type RevenueTotal,
  type StateChange,
} from './record.js';
import {
  changeValues,
  factValues,
  toAttempt,
  toRecord,
  toResolution,
  toUnresolvedSummary,
  type AttemptRow,
  type PaymentRow,
  type ResolutionRow,
} from './rows.js';
import { MIGRATIONS, NewerSchemaError, SCHEMA_VERSION } from './schema.js';

/** One write, applied inside the batch's transaction (group commit). */
export type WriteOp =
  /** Write-ahead: the record is `settling` before the settle request is sent. */
  | { readonly op: 'begin'; readonly facts: PaymentFacts; readonly at: number }
  /** A payment that ended before `settling` (released, declined): kept for audit. */
  | {
      readonly op: 'audit';
      readonly facts: PaymentFacts;
      readonly state: LedgerState;
      readonly at: number;
    }
  /** A state change; applied only when the record is in one of `from`. */
  | {
      readonly op: 'change';
      readonly key: string;
      readonly from: readonly LedgerState[];
      readonly change: StateChange;
      readonly by?: Resolution['by'];
      readonly note?: string;
      /**
       * The instance counting the revenue of a move to settled, written as the record's owner in
       * the same statement (Postgres; SQLite records no owner: one file has one gateway).
       */
      readonly owner?: string;
    }
  | { readonly op: 'attempt'; readonly attempt: Attempt }
  /** One more redemption, if fewer than `max` so far. */
  | { readonly op: 'redeem'; readonly key: string; readonly max: number; readonly at: number };

/** What a write op answers. */
export type WriteResult =
  /**
   * begin: the record is settling now; `from` is the state it left (undefined: a new record;
   * released/declined: re-claimed; settling/unknown: a resumed settlement, already unresolved).
   */
  | { readonly kind: 'begun'; readonly from: LedgerState | undefined }
  /** begin: the key holds a record in another state (it settled, or failed): not written. */
  | { readonly kind: 'conflict'; readonly state: LedgerState }
  /** change/redeem: whether the record moved, and the state it was in. */
  | { readonly kind: 'changed'; readonly changed: boolean; readonly from: LedgerState | undefined }
  | { readonly kind: 'done' };

export interface OpenOptions {
  readonly readonly?: boolean;
  /** ms to wait for another connection's lock before an error. Default 5 000. */
  readonly busyTimeoutMs?: number;
}

export class SqliteBook {
  readonly db: Database.Database;
  readonly #stmts: ReturnType<typeof prepare>;

  constructor(path: string, options: OpenOptions = {}) {
    const readonly = options.readonly === true;
    this.db = new Database(path, { readonly, fileMustExist: readonly });
    try {
      this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5_000}`);
      if (!readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = FULL');
      }
      migrate(this.db, readonly);
      this.#stmts = prepare(this.db);
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  close(): void {
    this.db.close();
  }

  /**
   * Apply writes in one transaction (one commit, one fsync for the batch). The common batch runs
   * straight through; if any op throws, the batch is rolled back and run again with each op in its
   * own savepoint, so one bad op fails alone (savepoints cost a third of a payment's writes: they
   * are paid only when needed).
   */
  write(ops: readonly WriteOp[]): Array<WriteResult | Error> {
    try {
      // IMMEDIATE: take the write lock first, so a second writer (an operator's `ledger resolve`
      // beside a running gateway) waits out busy_timeout instead of failing half-way.
      return this.db.transaction(() => ops.map((op) => this.#apply(op))).immediate();
    } catch {
      // Rolled back whole; the pass below tells which op failed (or fails as a whole again).
    }
    const results: Array<WriteResult | Error> = [];
    this.db
      .transaction(() => {
        for (const op of ops) {
          try {
            results.push(this.db.transaction(() => this.#apply(op))());
          } catch (err) {
            results.push(err instanceof Error ? err : new Error(String(err)));
          }
        }
      })
      .immediate();
    return results;
  }

  #apply(op: WriteOp): WriteResult {
    const s = this.#stmts;
    switch (op.op) {
      case 'begin': {
        const f = op.facts;
        // A new record, nearly always: one statement.
        if (s.insertNew.run(factsArgs(f, 'settling', op.at)).changes === 1) {
          return { kind: 'begun', from: undefined };
        }
        const row = s.state.get(f.key) as { state: LedgerState; digest: string };
        if (row.state === 'released' || row.state === 'declined') {
          // The legal re-entry: released → claimed for the same authorization, now settling.
          s.reopen.run(reopenArgs(f, 'settling', op.at));
          return { kind: 'begun', from: row.state };
        }
        if ((row.state === 'settling' || row.state === 'unknown') && row.digest === f.digest) {
          s.touch.run(op.at, f.key);
          return { kind: 'begun', from: row.state };
        }
        return { kind: 'conflict', state: row.state };
      }
      case 'audit': {
        const row = s.state.get(op.facts.key) as { state: LedgerState } | undefined;
        if (row === undefined) s.insert.run(factsArgs(op.facts, op.state, op.at));
        else if (row.state === 'released' || row.state === 'declined') {
          s.setState.run(op.state, op.at, op.facts.key);
        }
        return { kind: 'done' };
      }
      case 'change': {
        const row = s.state.get(op.key) as { state: LedgerState } | undefined;
        if (row === undefined || !op.from.includes(row.state)) {
          return { kind: 'changed', changed: false, from: row?.state };
        }
        const c = op.change;
        const at = c.at ?? Date.now();
        s.change.run(...changeValues(c, at), op.key);
        if (op.by !== undefined) {
          s.resolution.run(op.key, at, row.state, c.state, op.by, op.note ?? c.detail ?? '');
        }
        return { kind: 'changed', changed: true, from: row.state };
      }
      case 'attempt': {
        const a = op.attempt;
        s.attempt.run(
          a.key,
          a.key,
          a.requestId,
          a.outcome,
          a.status,
          a.served ? 1 : 0,
          a.delivered ? 1 : 0,
          a.startedAt,
          a.endedAt,
        );
        if (a.delivered) s.delivered.run(a.endedAt, a.key);
        return { kind: 'done' };
      }
      case 'redeem': {
        const row = s.state.get(op.key) as { state: LedgerState } | undefined;
        const changed = s.redeem.run(op.at, op.key, op.max).changes === 1;
        if (changed) {
          s.resolution.run(op.key, op.at, row!.state, row!.state, 'redemption', 'served again');
        }
        return { kind: 'changed', changed, from: row?.state };
      }
    }
  }

  get(key: string): LedgerRecord | undefined {
    const row = this.#stmts.get.get(key) as PaymentRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  list(filter: RecordFilter = {}): LedgerRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.states !== undefined) {
      if (filter.states.length === 0) return [];
      where.push(`state IN (${filter.states.map(() => '?').join(',')})`);
      args.push(...filter.states);
    }
    if (filter.networks !== undefined) {
      if (filter.networks.length === 0) return [];
      where.push(`network IN (${filter.networks.map(() => '?').join(',')})`);
      args.push(...filter.networks);
    }
    if (filter.validBeforeFrom !== undefined) {
      where.push('valid_before >= ?');
      args.push(filter.validBeforeFrom);
    }
    if (filter.since !== undefined) {
      where.push('created_at >= ?');
      args.push(filter.since);
    }
    if (filter.settledSince !== undefined) {
      where.push('settled_at >= ?');
      args.push(filter.settledSince);
    }
    if (filter.undelivered === true) {
      where.push(`state IN (${PAID_STATES.map(() => '?').join(',')}) AND delivered_at IS NULL`);
      args.push(...PAID_STATES);
    }
    const sql =
      `SELECT * FROM payments${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}` +
      ` ORDER BY created_at, key${
        filter.limit !== undefined && Number.isFinite(filter.limit)
          ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}`
          : ''
      }`;
    return (this.db.prepare(sql).all(...args) as PaymentRow[]).map(toRecord);
  }

  /** Every record, oldest first, one at a time (exports of any size). */
  *iterate(filter: { readonly since?: number } = {}): Generator<LedgerRecord> {
    const rows = this.db
      .prepare('SELECT * FROM payments WHERE created_at >= ? ORDER BY created_at, key')
      .iterate(filter.since ?? 0) as IterableIterator<PaymentRow>;
    for (const row of rows) yield toRecord(row);
  }

  attempts(key: string): Attempt[] {
    // SQLite stores the flags as 0 or 1.
    return (this.#stmts.attempts.all({ key }) as AttemptRow<number>[]).map((r) =>
      toAttempt(r, (flag) => flag === 1),
    );
  }

  resolutions(key: string): Resolution[] {
    return (this.#stmts.resolutions.all(key) as ResolutionRow[]).map(toResolution);
  }

  /** Settled money per (route, network, asset, payTo), summed as BigInt (never as a float). */
  revenue(): RevenueTotal[] {
    const rows = this.#stmts.paidAmounts.all(...PAID_STATES) as Array<{
      route: string;
      network: string;
      asset: string;
      pay_to: string;
      amount: string;
    }>;
    const totals = new Map<string, { total: RevenueTotal; sum: bigint }>();
    for (const r of rows) {
      const id = `${r.route}\n${r.network}\n${r.asset}\n${r.pay_to}`;
      let t = totals.get(id);
      if (t === undefined) {
        t = {
          total: {
            route: r.route,
            network: r.network,
            asset: r.asset,
            payTo: r.pay_to,
            amount: '0',
            count: 0,
          },
          sum: 0n,
        };
        totals.set(id, t);
      }
      t.sum += BigInt(r.amount);
      t.total = { ...t.total, count: t.total.count + 1 };
    }
    return [...totals.values()].map((t) => ({ ...t.total, amount: t.sum.toString() }));
  }

  /** Unresolved records per state, and the oldest one's creation time. */
  unresolved(): { readonly counts: Record<string, number>; readonly oldestAt: number | undefined } {
    const rows = this.#stmts.unresolved.all(...UNRESOLVED_STATES) as Array<{
      state: string;
      n: number;
      oldest: number;
    }>;
    return toUnresolvedSummary(rows);
  }

  /** An online, consistent copy (SQLite's backup API) while the gateway writes. */
  backup(path: string): Promise<unknown> {
    return this.db.backup(path);
  }
}

function migrate(db: Database.Database, readonly: boolean): void {
  const hasTable = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  const found = hasTable
    ? ((db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined)
        ?.version ?? 0)
    : 0;
  if (found > SCHEMA_VERSION) throw new NewerSchemaError(found, SCHEMA_VERSION);
  if (found === SCHEMA_VERSION) return;
  if (readonly) {
    throw new Error(
      `the ledger's schema is version ${found}; this gateway writes ${SCHEMA_VERSION}: start the gateway once to migrate it`,
    );
  }
  db.transaction(() => {
    if (!hasTable) db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (const m of MIGRATIONS) if (m.version > found) db.exec(m.sql);
    db.prepare('DELETE FROM schema_version').run();
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
  }).immediate();
}

function prepare(db: Database.Database) {
  return {
    state: db.prepare('SELECT state, digest FROM payments WHERE key = ?'),
    get: db.prepare('SELECT * FROM payments WHERE key = ?'),
    // Positional parameters (factsArgs' order): binding by name costs a property lookup per
    // parameter, and an object per op to look them up in.
    insertNew: db.prepare(`INSERT INTO payments (key, state, digest, x402_version, route, method,
        path, network, asset, decimals, pay_to, payer, amount, nonce, valid_before, request,
        created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (key) DO NOTHING`),
    insert: db.prepare(`INSERT INTO payments (key, state, digest, x402_version, route, method, path,
        network, asset, decimals, pay_to, payer, amount, nonce, valid_before, request, created_at,
        updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    // A new authorization over the same key may differ in every fact: all of them are rewritten,
    // and what the earlier, unpaid attempt learnt is cleared. Parameters: reopenArgs.
    reopen: db.prepare(`UPDATE payments SET state = ?, digest = ?, x402_version = ?, route = ?,
        method = ?, path = ?, network = ?, asset = ?, decimals = ?, pay_to = ?, payer = ?,
        amount = ?, nonce = ?, valid_before = ?, request = ?, updated_at = ?, tx = NULL,
        settled_at = NULL, confirmed_at = NULL, delivered_at = NULL, redemptions = 0,
        detail = NULL WHERE key = ?`),
    touch: db.prepare('UPDATE payments SET updated_at = ? WHERE key = ?'),
    setState: db.prepare('UPDATE payments SET state = ?, updated_at = ? WHERE key = ?'),
    // (state, tx, detail, at, settled, confirmed, key)
    change: db.prepare(`UPDATE payments SET state = ?, tx = coalesce(?, tx),
        detail = coalesce(?, detail), updated_at = ?,
        settled_at = coalesce(settled_at, ?), confirmed_at = coalesce(confirmed_at, ?)
      WHERE key = ?`),
    resolution: db.prepare(
      'INSERT INTO resolutions (key, at, from_state, to_state, by, note) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    // By the payment's integer id, not its key: an index on ids that grow with time is appended to;
    // one on random replay keys dirties a page of its own for every payment.
    attempt: db.prepare(`INSERT INTO attempts (payment_id, key, request_id, outcome, status, served,
        delivered, started_at, ended_at)
      VALUES ((SELECT id FROM payments WHERE key = ?), ?, ?, ?, ?, ?, ?, ?, ?)`),
    delivered: db.prepare(
      'UPDATE payments SET delivered_at = coalesce(delivered_at, ?) WHERE key = ?',
    ),
    // Only a payment our transfer paid (not a disputed one) whose response never went out whole.
    redeem: db.prepare(`UPDATE payments SET redemptions = redemptions + 1, updated_at = ?
      WHERE key = ? AND redemptions < ? AND delivered_at IS NULL
        AND state IN ('settled', 'confirmed')`),
    // Through the payment's id (indexed), and the rare attempt with no record (null id, indexed too).
    attempts: db.prepare(`SELECT * FROM attempts
      WHERE payment_id = (SELECT id FROM payments WHERE key = @key)
         OR (payment_id IS NULL AND key = @key)
      ORDER BY id`),
    resolutions: db.prepare('SELECT * FROM resolutions WHERE key = ? ORDER BY id'),
    paidAmounts: db.prepare(
      `SELECT route, network, asset, pay_to, amount FROM payments WHERE state IN (?, ?, ?)`,
    ),
    unresolved: db.prepare(
      'SELECT state, count(*) AS n, min(created_at) AS oldest FROM payments WHERE state IN (?, ?) GROUP BY state',
    ),
  };
}

/** The facts as the insert statements' positional parameters (created_at and updated_at: `at`). */
function factsArgs(f: PaymentFacts, state: LedgerState, at: number): unknown[] {
  return [f.key, state, ...factValues(f), at, at];
}

/** The reopen statement's parameters: factsArgs' from the state to one `at`, then the key. */
function reopenArgs(f: PaymentFacts, state: LedgerState, at: number): unknown[] {
  return [...factsArgs(f, state, at).slice(1, -1), f.key];
}
