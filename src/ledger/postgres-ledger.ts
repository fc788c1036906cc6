/**
 * The ledger in Postgres, for a fleet: several gateways write one database, and their reconcilers
 * may run at once. Every state change is a conditional UPDATE (`WHERE key = $1 AND state =
 * ANY($2)`) after the row is locked (`SELECT … FOR UPDATE`), so of two instances moving one record
 * exactly one moves it; the other is answered `changed: false` with the state it found, as with
 * SQLite. `begin`, `audit`, `redeem` and `attempt` keep SQLite's semantics (sqlite-book.ts).
 *
 * Group commit: writes queued during one turn of the event loop (and while a batch commits) go in
 * one transaction; an awaited write resolves once its COMMIT is acknowledged (Postgres's
 * `synchronous_commit`, on by default: the WAL is flushed). A batch whose op the database refuses
 * is rolled back and run again with each op in its own savepoint, so the refused op fails alone.
 * Batches run one after another, so an unawaited `audit` or `attempt` is seen by the next read.
 *
 * Fail closed: a lost connection, a refused one, or a deadline passed (statement_timeout on the
 * server, query_timeout on the client) rejects every write of the batch with
 * LedgerUnavailableError `unavailable`, and `writable` turns false until a probe (`SELECT 1`, at
 * most once a second, when `writable` is asked or a write is refused) reaches the server again:
 * the pool then makes new connections, no new store is needed. A COMMIT whose answer was lost may
 * have committed: the caller has not acted on it (it answered 503), and a `settling` record it
 * left is the reconciler's to resolve, as after a crash.
 */
import pg from 'pg';
import {
  PAID_STATES,
  UNRESOLVED_STATES,
  type Attempt,
  type LedgerRecord,
  type LedgerState,
  type PaymentFacts,
  type RecordFilter,
  type Resolution,
  type RevenueFilter,
  type RevenueTotal,
  type StateChange,
} from './record.js';
import {
  InstanceHeartbeat,
  type HeartbeatOptions,
  type InstanceFacts,
  type LiveInstance,
} from './postgres-instances.js';
import { MIGRATION_LOCK, POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from './postgres-schema.js';
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
import { NewerSchemaError } from './schema.js';
import type { WriteOp, WriteResult } from './sqlite-book.js';
import {
  LedgerUnavailableError,
  reportMove,
  type LedgerHooks,
  type LedgerStore,
  type UnresolvedSummary,
} from './store.js';

/** While the server is unreachable, probe it at most this often. */
const PROBE_EVERY_MS = 1_000;
/** A batch that meets a deadlock or a serialization failure is run again this many times. */
const RETRIES = 3;
/** At most this many writes in one transaction (a bound on its locks and its time). */
const MAX_BATCH = 1_000;
/**
 * A write batch's transaction: READ COMMITTED (each statement sees what others committed, so a
 * row lock taken is on the row's latest version), and a COMMIT acknowledged only once durable
 * (`synchronous_commit = on`, whatever the server's or the role's default). One round trip.
 */
const BEGIN_WRITE = 'BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit = on';

export interface PostgresLedgerOptions {
  /** `postgres://user:password@host:port/database` (libpq's URL form; `?sslmode=…` and the like). */
  readonly url: string;
  readonly hooks?: LedgerHooks;
  /** Connections in the pool. Default 10. */
  readonly maxConnections?: number;
  /** Bound on connecting, ms. Default 5 000. */
  readonly connectTimeoutMs?: number;
  /**
   * Bound on one statement, ms: the server cancels it (statement_timeout, lock waits included) and
   * the client gives up on an answer 1 s later (a hung server, a dead network). Default 5 000.
   */
  readonly statementTimeoutMs?: number;
  /** The heartbeat row's refresh interval and what a beat reports (postgres-instances.ts). */
  readonly heartbeat?: HeartbeatOptions;
  /**
   * Migrate the schema forward on open (default true: a gateway does). False (the operator
   * commands): a database without this version's schema is refused, never created nor migrated,
   * so a command run from a newer install cannot move a fleet's schema past its gateways.
   */
  readonly migrate?: boolean;
  /**
   * This instance's name (`server.instance`): written as the owner of every record this store
   * moves to settled, in the same statement, and given to the paid records no instance owns by
   * `adopt()`. Absent (the operator commands): the records it settles are owned by nobody until an
   * instance adopts them.
   */
  readonly owner?: string;
}

/** Records read per round trip by {@link PostgresLedger.iterate}. */
const PAGE = 1_000;

/** One queued write and, when its caller awaits it, how to answer. */
interface Queued {
  readonly op: WriteOp;
  readonly waiter: Waiter | undefined;
}

interface Waiter {
  readonly resolve: (value: WriteResult) => void;
  readonly reject: (error: Error) => void;
  readonly started: number;
  /** The state a successful write moves its record to (begin: settling; change: its state). */
  readonly to: LedgerState | undefined;
}

export class PostgresLedger implements LedgerStore {
  readonly kind = 'postgres';
  readonly location: string;
  readonly #url: string;
  readonly #hooks: LedgerHooks;
  readonly #options: PostgresLedgerOptions;
  #pool: pg.Pool | undefined = undefined;
  /** This instance's heartbeat row, once it joined the fleet. */
  #heartbeat: InstanceHeartbeat | undefined = undefined;
  #open = false;
  #closing = false;
  /** The server could not be reached: refuse at once, and probe. */
  #down = false;
  #probing = false;
  #probedAt = 0;
  /** The batch collecting writes (not started yet). */
  #next: Queued[] | undefined = undefined;
  /** Settles when every batch started or scheduled so far has finished (never rejects). */
  #tail: Promise<void> = Promise.resolve();

  constructor(options: PostgresLedgerOptions) {
    this.#options = options;
    this.#url = options.url;
    this.location = redact(options.url);
    this.#hooks = options.hooks ?? {};
  }

  get writable(): boolean {
    if (this.#down) this.#probe();
    return this.#open && !this.#closing && !this.#down;
  }

  async open(): Promise<void> {
    this.#closing = false;
    const statementTimeout = this.#options.statementTimeoutMs ?? 5_000;
    const pool = new pg.Pool({
      connectionString: this.#url,
      max: this.#options.maxConnections ?? 10,
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? 5_000,
      statement_timeout: statementTimeout,
      query_timeout: statementTimeout + 1_000,
      idle_in_transaction_session_timeout: statementTimeout * 2,
      keepAlive: true,
      application_name: 'x402-gateway',
      types: { getTypeParser },
    });
    // An idle connection that breaks (the server stopped, the network went) is dropped by the
    // pool; without a listener the error would end the process.
    pool.on('error', (err) => {
      if (this.#pool !== pool || this.#closing) return;
      this.#lost(err);
    });
    try {
      await migrate(pool, this.#options.migrate ?? true);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new LedgerUnavailableError(
        `cannot open the ledger at ${this.location}: ${asError(err).message}`,
        'open',
        { cause: err },
      );
    }
    this.#pool = pool;
    this.#open = true;
    this.#down = false;
  }

  async close(): Promise<void> {
    if (this.#closing || !this.#open) {
      this.#open = false;
      return;
    }
    this.#closing = true;
    await this.#tail;
    // A clean shutdown deletes the row: the others need not wait for it to go stale.
    await this.#heartbeat?.leave(!this.#down).catch(() => undefined);
    this.#heartbeat = undefined;
    this.#open = false;
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end().catch(() => undefined);
  }

  /**
   * Writes this instance's heartbeat row and keeps it fresh until `close()`; answers the other
   * instances live on this book (postgres-instances.ts). Fails (LedgerUnavailableError `open`)
   * when the row cannot be written: the caller cannot know whether it is alone.
   */
  async joinFleet(facts: InstanceFacts): Promise<LiveInstance[]> {
    const pool = this.#pool;
    if (pool === undefined || !this.#open) {
      throw new LedgerUnavailableError('the ledger is not open', 'unavailable');
    }
    this.#heartbeat ??= new InstanceHeartbeat(pool, this.#options.heartbeat);
    try {
      return await this.#heartbeat.join(facts);
    } catch (err) {
      throw new LedgerUnavailableError(
        `cannot write this instance's heartbeat row at ${this.location}: ${asError(err).message}`,
        'open',
        { cause: err },
      );
    }
  }

  begin(facts: PaymentFacts, at: number): Promise<WriteResult> {
    return this.#write({ op: 'begin', facts, at });
  }

  change(
    key: string,
    from: readonly LedgerState[],
    change: StateChange,
    by?: Resolution['by'],
    note?: string,
  ): Promise<WriteResult> {
    // Whoever moves a record to settled counts its revenue (the request, or the reconciler): the
    // owner rides in the move's own statement, never in a second write.
    const owner = change.state === 'settled' ? this.#options.owner : undefined;
    return this.#write({ op: 'change', key, from, change, by, note, owner });
  }

  redeem(key: string, max: number, at: number): Promise<WriteResult> {
    return this.#write({ op: 'redeem', key, max, at });
  }

  audit(facts: PaymentFacts, state: LedgerState, at: number): void {
    this.#append({ op: 'audit', facts, state, at });
  }

  attempt(attempt: Attempt): void {
    this.#append({ op: 'attempt', attempt });
  }

  flushed(): Promise<void> {
    return this.#tail;
  }

  async get(key: string): Promise<LedgerRecord | undefined> {
    const rows = await this.#read<PaymentRow>('SELECT * FROM payments WHERE key = $1', [key]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  async list(filter: RecordFilter = {}): Promise<LedgerRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (value: unknown): string => {
      args.push(value);
      return `$${args.length}`;
    };
    if (filter.states !== undefined) {
      if (filter.states.length === 0) return [];
      where.push(`state = ANY(${arg(filter.states)}::text[])`);
    }
    if (filter.networks !== undefined) {
      if (filter.networks.length === 0) return [];
      where.push(`network = ANY(${arg(filter.networks)}::text[])`);
    }
    if (filter.validBeforeFrom !== undefined) {
      where.push(`valid_before >= ${arg(filter.validBeforeFrom)}`);
    }
    if (filter.since !== undefined) where.push(`created_at >= ${arg(filter.since)}`);
    if (filter.settledSince !== undefined) {
      where.push(`settled_at >= ${arg(filter.settledSince)}`);
    }
    if (filter.undelivered === true) {
      where.push(`state = ANY(${arg(PAID_STATES)}::text[]) AND delivered_at IS NULL`);
    }
    const limit =
      filter.limit !== undefined && Number.isFinite(filter.limit)
        ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}`
        : '';
    const sql =
      `SELECT * FROM payments${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}` +
      ` ORDER BY created_at, key${limit}`;
    return (await this.#read<PaymentRow>(sql, args)).map(toRecord);
  }

  /**
   * Every record created at or after `since`, oldest first (`created_at`, then key), read a page
   * at a time: an export of any size holds one page. Each page is its own snapshot (no transaction
   * is held open while the output drains); a record is never read twice, as its creation time
   * never changes, and one made meanwhile is read if it sorts after the page being read.
   */
  async *iterate(filter: { readonly since?: number } = {}): AsyncGenerator<LedgerRecord> {
    let rows = await this.#read<PaymentRow>(
      'SELECT * FROM payments WHERE created_at >= $1 ORDER BY created_at, key LIMIT $2',
      [filter.since ?? 0, PAGE],
    );
    while (rows.length > 0) {
      for (const row of rows) yield toRecord(row);
      if (rows.length < PAGE) return;
      const last = rows[rows.length - 1]!;
      rows = await this.#read<PaymentRow>(
        `SELECT * FROM payments WHERE created_at >= $1 AND (created_at, key) > ($2, $3)
          ORDER BY created_at, key LIMIT $4`,
        [filter.since ?? 0, last.created_at, last.key, PAGE],
      );
    }
  }

  async attempts(key: string): Promise<Attempt[]> {
    const rows = await this.#read<AttemptRow<boolean>>(
      `SELECT * FROM attempts
        WHERE payment_id = (SELECT id FROM payments WHERE key = $1)
           OR (payment_id IS NULL AND key = $1)
        ORDER BY id`,
      [key],
    );
    return rows.map((r) => toAttempt(r, (flag) => flag));
  }

  async resolutions(key: string): Promise<Resolution[]> {
    const rows = await this.#read<ResolutionRow>(
      'SELECT * FROM resolutions WHERE key = $1 ORDER BY id',
      [key],
    );
    return rows.map(toResolution);
  }

  /**
   * Settled money per (route, network, asset, payTo), summed as `numeric` (exact): every paid
   * record's, or only those `owner` owns.
   */
  async revenue(filter: RevenueFilter = {}): Promise<RevenueTotal[]> {
    const owned = filter.owner === undefined ? '' : ' AND owner = $2';
    const rows = await this.#read<RevenueRow>(
      `SELECT route, network, asset, pay_to, sum(amount::numeric)::text AS amount, count(*) AS n
         FROM payments WHERE state = ANY($1::text[])${owned} GROUP BY route, network, asset, pay_to`,
      filter.owner === undefined ? [PAID_STATES] : [PAID_STATES, filter.owner],
    );
    return rows.map(toRevenueTotal);
  }

  /**
   * Gives this store's owner every paid record no instance owns, in one statement (of instances
   * starting at once, each record goes to one: the UPDATE locks it and re-checks `owner IS NULL`),
   * durable before it answers; answers their totals. Without an `owner` option: nothing to adopt.
   */
  async adopt(): Promise<RevenueTotal[]> {
    const owner = this.#options.owner;
    const refused = this.#refusal();
    if (refused !== undefined) throw refused;
    if (owner === undefined) return [];
    await this.#tail;
    const client = await this.#pool!.connect();
    let broken: Error | undefined;
    try {
      await client.query(BEGIN_WRITE);
      const { rows } = await client.query<RevenueRow>(
        `WITH adopted AS (
           UPDATE payments SET owner = $1 WHERE owner IS NULL AND state = ANY($2::text[])
           RETURNING route, network, asset, pay_to, amount)
         SELECT route, network, asset, pay_to, sum(amount::numeric)::text AS amount, count(*) AS n
           FROM adopted GROUP BY route, network, asset, pay_to`,
        [owner, PAID_STATES],
      );
      await client.query('COMMIT');
      return rows.map(toRevenueTotal);
    } catch (err) {
      broken = asError(err);
      const error = this.#trouble(err, 'write');
      this.#hooks.onError?.(error.kind, error);
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async unresolved(): Promise<UnresolvedSummary> {
    const rows = await this.#read<{ state: string; n: number; oldest: number }>(
      `SELECT state, count(*) AS n, min(created_at) AS oldest
         FROM payments WHERE state = ANY($1::text[]) GROUP BY state`,
      [UNRESOLVED_STATES],
    );
    return toUnresolvedSummary(rows);
  }

  /**
   * Not supported: a Postgres ledger is backed up with Postgres's own tools (`pg_dump`, or the
   * server's base backups and WAL archiving), which see every instance's writes consistently.
   */
  backup(path: string): Promise<void> {
    return Promise.reject(
      new LedgerUnavailableError(
        `backup to ${path} is not supported for a postgres ledger: back up its database with pg_dump (or the server's base backups and WAL archiving)`,
        'read',
      ),
    );
  }

  // ---------------------------------------------------------------------------------------------

  /** Why the store refuses a call now, if it does. */
  #refusal(): LedgerUnavailableError | undefined {
    if (!this.#open || this.#closing || this.#pool === undefined) {
      return new LedgerUnavailableError('the ledger is not open', 'unavailable');
    }
    if (this.#down) {
      this.#probe();
      return new LedgerUnavailableError(
        `the ledger's database at ${this.location} cannot be reached`,
        'unavailable',
      );
    }
    return undefined;
  }

  #write(op: WriteOp): Promise<WriteResult> {
    const refused = this.#refusal();
    if (refused !== undefined) return Promise.reject(refused);
    const to = op.op === 'begin' ? 'settling' : op.op === 'change' ? op.change.state : undefined;
    return new Promise<WriteResult>((resolve, reject) => {
      this.#enqueue({ op, waiter: { resolve, reject, started: performance.now(), to } });
    });
  }

  /** An unawaited write: a failure is reported to onError, never thrown. */
  #append(op: WriteOp): void {
    const refused = this.#refusal();
    if (refused !== undefined) {
      this.#hooks.onError?.('unavailable', refused);
      return;
    }
    this.#enqueue({ op, waiter: undefined });
  }

  #enqueue(item: Queued): void {
    if (this.#next !== undefined && this.#next.length < MAX_BATCH) {
      this.#next.push(item);
      return;
    }
    const batch: Queued[] = [item];
    this.#next = batch;
    // After the batch before it, and at least one turn of the loop later: the writes of that turn
    // (and of the time the previous batch took) ride in this one.
    this.#tail = this.#tail
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        if (this.#next === batch) this.#next = undefined;
        return this.#run(batch);
      })
      .catch((err: unknown) => this.#hooks.onError?.('write', asError(err)));
  }

  async #run(batch: Queued[]): Promise<void> {
    let results: Array<WriteResult | Error>;
    try {
      results = await this.#transact(batch.map((q) => q.op));
    } catch (err) {
      // Nothing of the batch is known to be written: every awaited write fails closed.
      const error = this.#trouble(err, 'write');
      this.#hooks.onError?.(error.kind, error);
      for (const q of batch) q.waiter?.reject(error);
      return;
    }
    let dropped: Error | undefined;
    results.forEach((result, i) => {
      const { waiter } = batch[i]!;
      if (result instanceof Error) {
        const failure = new LedgerUnavailableError(`ledger write: ${result.message}`, 'write', {
          cause: result,
        });
        if (waiter === undefined) dropped = failure;
        else {
          this.#hooks.onError?.('write', failure);
          waiter.reject(failure);
        }
        return;
      }
      if (waiter === undefined) return;
      this.#hooks.onWrite?.((performance.now() - waiter.started) / 1000);
      if (waiter.to !== undefined) reportMove(this.#hooks, result, waiter.to);
      waiter.resolve(result);
    });
    if (dropped !== undefined) this.#hooks.onError?.('write', dropped);
  }

  /**
   * The batch in one transaction; if the database refuses an op, again with each op in its own
   * savepoint (answering the refused ones with their error). Throws when the batch as a whole
   * failed (no connection, a deadline): then none of it is known to be committed.
   */
  async #transact(ops: readonly WriteOp[]): Promise<Array<WriteResult | Error>> {
    const client = await this.#pool!.connect();
    const ignore = (): void => undefined; // a broken connection also rejects the query in flight
    client.on('error', ignore);
    let broken: Error | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await client.query(BEGIN_WRITE);
          await lockRows(client, ops);
          const results: WriteResult[] = [];
          for (const op of ops) results.push(await apply(client, op));
          await client.query('COMMIT');
          return results;
        } catch (err) {
          if (isTrouble(err)) throw err;
          await client.query('ROLLBACK');
          if (!isRetryable(err) || attempt >= RETRIES) break;
        }
      }
      await client.query(BEGIN_WRITE);
      await lockRows(client, ops);
      const results: Array<WriteResult | Error> = [];
      for (const op of ops) {
        await client.query('SAVEPOINT op');
        try {
          results.push(await apply(client, op));
          await client.query('RELEASE SAVEPOINT op');
        } catch (err) {
          if (isTrouble(err)) throw err;
          await client.query('ROLLBACK TO SAVEPOINT op');
          results.push(asError(err));
        }
      }
      await client.query('COMMIT');
      return results;
    } catch (err) {
      broken = asError(err);
      throw err;
    } finally {
      client.removeListener('error', ignore);
      // A connection that met trouble mid-transaction is not reused (destroyed by the pool).
      client.release(broken);
    }
  }

  async #read<T>(sql: string, args: readonly unknown[] = []): Promise<T[]> {
    const refused = this.#refusal();
    if (refused !== undefined) throw refused;
    // Every write queued before this read is committed (or failed) first.
    await this.#tail;
    const pool = this.#pool;
    if (pool === undefined)
      throw new LedgerUnavailableError('the ledger is not open', 'unavailable');
    try {
      return (await pool.query(sql, args as unknown[])).rows as T[];
    } catch (err) {
      const error = this.#trouble(err, 'read');
      this.#hooks.onError?.(error.kind, error);
      throw error;
    }
  }

  /** The error a failed call rejects with; a lost server turns the store unwritable. */
  #trouble(err: unknown, kind: 'write' | 'read'): LedgerUnavailableError {
    const error = asError(err);
    if (isTrouble(err)) {
      if (isUnreachable(err)) this.#down = true;
      return new LedgerUnavailableError(`ledger ${kind}: ${error.message}`, 'unavailable', {
        cause: error,
      });
    }
    return new LedgerUnavailableError(`ledger ${kind}: ${error.message}`, kind, { cause: error });
  }

  /**
   * An idle connection broke (the pool dropped it): find out whether the server is there. A
   * passing break (a server's idle timeout) is no trouble; a lost server is reported once.
   */
  #lost(err: Error): void {
    this.#probe(true, err);
  }

  /**
   * Ask the server `SELECT 1` (at most once a second unless `now`); its answer sets `writable`. A
   * store that was up and finds the server gone reports it to onError once.
   */
  #probe(now = false, why?: Error): void {
    const pool = this.#pool;
    if (pool === undefined || this.#probing || this.#closing) return;
    if (!now && Date.now() - this.#probedAt < PROBE_EVERY_MS) return;
    this.#probing = true;
    this.#probedAt = Date.now();
    pool.query('SELECT 1').then(
      () => {
        this.#probing = false;
        this.#down = false;
      },
      (err: unknown) => {
        this.#probing = false;
        if (this.#down || this.#closing) return;
        this.#down = true;
        const cause = why ?? asError(err);
        this.#hooks.onError?.(
          'unavailable',
          new LedgerUnavailableError(`ledger connection lost: ${cause.message}`, 'unavailable', {
            cause,
          }),
        );
      },
    );
  }
}

// -----------------------------------------------------------------------------------------------
// The writes, inside the batch's transaction.

type Client = pg.PoolClient;

async function apply(client: Client, op: WriteOp): Promise<WriteResult> {
  switch (op.op) {
    case 'begin': {
      const f = op.facts;
      // A new record, nearly always: one statement.
      const inserted = await client.query(
        `INSERT INTO payments (key, state, digest, x402_version, route, method, path, network,
           asset, decimals, pay_to, payer, amount, nonce, valid_before, request, created_at,
           updated_at)
         VALUES ($1, 'settling', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
           $16)
         ON CONFLICT (key) DO NOTHING`,
        [f.key, ...factValues(f), op.at],
      );
      if (inserted.rowCount === 1) return { kind: 'begun', from: undefined };
      const row = await lockState(client, f.key);
      if (row === undefined) throw new Error(`the record ${f.key} vanished while it was begun`);
      if (row.state === 'released' || row.state === 'declined') {
        // The legal re-entry: released → claimed for the same authorization, now settling. Every
        // fact is rewritten; what the earlier, unpaid attempt learnt is cleared.
        await client.query(
          `UPDATE payments SET state = 'settling', digest = $2, x402_version = $3, route = $4,
             method = $5, path = $6, network = $7, asset = $8, decimals = $9, pay_to = $10,
             payer = $11, amount = $12, nonce = $13, valid_before = $14, request = $15,
             tx = NULL, settled_at = NULL, confirmed_at = NULL, delivered_at = NULL,
             redemptions = 0, updated_at = $16, detail = NULL
           WHERE key = $1 AND state = ANY($17::text[])`,
          [f.key, ...factValues(f), op.at, ['released', 'declined']],
        );
        return { kind: 'begun', from: row.state };
      }
      if ((row.state === 'settling' || row.state === 'unknown') && row.digest === f.digest) {
        await client.query('UPDATE payments SET updated_at = $2 WHERE key = $1', [f.key, op.at]);
        return { kind: 'begun', from: row.state };
      }
      return { kind: 'conflict', state: row.state };
    }
    case 'audit': {
      // New: inserted; released or declined: its state moves; anything else is left alone.
      await client.query(
        `INSERT INTO payments (key, state, digest, x402_version, route, method, path, network,
           asset, decimals, pay_to, payer, amount, nonce, valid_before, request, created_at,
           updated_at)
         VALUES ($1, $17, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
         ON CONFLICT (key) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at
           WHERE payments.state IN ('released', 'declined')`,
        [op.facts.key, ...factValues(op.facts), op.at, op.state],
      );
      return { kind: 'done' };
    }
    case 'change': {
      const row = await lockState(client, op.key);
      if (row === undefined || !op.from.includes(row.state)) {
        return { kind: 'changed', changed: false, from: row?.state };
      }
      const c = op.change;
      const at = c.at ?? Date.now();
      // A record keeps its first owner (settled → confirmed keeps it; `owner` is given only with
      // a move to settled, from an unresolved state).
      const updated = await client.query(
        `UPDATE payments SET state = $3, tx = coalesce($4, tx), detail = coalesce($5, detail),
           updated_at = $6, settled_at = coalesce(settled_at, $7),
           confirmed_at = coalesce(confirmed_at, $8), owner = coalesce(owner, $9)
         WHERE key = $1 AND state = ANY($2::text[])`,
        [op.key, op.from, ...changeValues(c, at), op.owner ?? null],
      );
      if (updated.rowCount !== 1) return { kind: 'changed', changed: false, from: row.state };
      if (op.by !== undefined) {
        await resolution(client, op.key, at, row.state, c.state, op.by, op.note ?? c.detail ?? '');
      }
      return { kind: 'changed', changed: true, from: row.state };
    }
    case 'attempt': {
      const a = op.attempt;
      await client.query(
        `INSERT INTO attempts (payment_id, key, request_id, outcome, status, served, delivered,
           started_at, ended_at)
         VALUES ((SELECT id FROM payments WHERE key = $1), $1, $2, $3, $4, $5, $6, $7, $8)`,
        [a.key, a.requestId, a.outcome, a.status, a.served, a.delivered, a.startedAt, a.endedAt],
      );
      if (a.delivered) {
        await client.query(
          'UPDATE payments SET delivered_at = coalesce(delivered_at, $2) WHERE key = $1',
          [a.key, a.endedAt],
        );
      }
      return { kind: 'done' };
    }
    case 'redeem': {
      const row = await lockState(client, op.key);
      // Only a payment our transfer paid (not a disputed one) whose response never went out whole.
      const updated = await client.query(
        `UPDATE payments SET redemptions = redemptions + 1, updated_at = $2
         WHERE key = $1 AND redemptions < $3 AND delivered_at IS NULL
           AND state IN ('settled', 'confirmed')`,
        [op.key, op.at, op.max],
      );
      const changed = updated.rowCount === 1;
      if (changed) {
        await resolution(
          client,
          op.key,
          op.at,
          row!.state,
          row!.state,
          'redemption',
          'served again',
        );
      }
      return { kind: 'changed', changed, from: row?.state };
    }
  }
}

/**
 * Lock, in key order, every existing record the batch touches, before touching any: two batches
 * (two instances) that share records take their locks in one order, so they wait for each other
 * instead of deadlocking. (Row locks live in the rows: a batch of any size takes no lock-table
 * slots.) Two instances inserting the same new keys in opposite orders can still deadlock: the
 * server detects it within deadlock_timeout, and the batch is run again.
 */
async function lockRows(client: Client, ops: readonly WriteOp[]): Promise<void> {
  const keys = new Set<string>();
  for (const op of ops) {
    if (op.op === 'begin' || op.op === 'audit') keys.add(op.facts.key);
    else keys.add(op.op === 'attempt' ? op.attempt.key : op.key);
  }
  if (keys.size < 2) return; // one record: its own statement locks it, no order to keep
  await client.query('SELECT 1 FROM payments WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE', [
    [...keys],
  ]);
}

/** The record's state and digest, its row locked until the batch commits. */
async function lockState(
  client: Client,
  key: string,
): Promise<{ state: LedgerState; digest: string } | undefined> {
  const { rows } = await client.query<{ state: LedgerState; digest: string }>(
    'SELECT state, digest FROM payments WHERE key = $1 FOR UPDATE',
    [key],
  );
  return rows[0];
}

function resolution(
  client: Client,
  key: string,
  at: number,
  from: LedgerState,
  to: LedgerState,
  by: Resolution['by'],
  note: string,
): Promise<unknown> {
  return client.query(
    'INSERT INTO resolutions (key, at, from_state, to_state, by, note) VALUES ($1, $2, $3, $4, $5, $6)',
    [key, at, from, to, by, note],
  );
}

// -----------------------------------------------------------------------------------------------
// Opening.

async function migrate(pool: pg.Pool, forward: boolean): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    // One gateway of the fleet migrates; the others wait here, then find the schema current.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const { rows } = await client.query<{ present: boolean }>(
      "SELECT to_regclass('schema_version') IS NOT NULL AS present",
    );
    const present = rows[0]?.present === true;
    const found = present
      ? ((await client.query<{ version: number }>('SELECT version FROM schema_version')).rows[0]
          ?.version ?? 0)
      : 0;
    if (found > POSTGRES_SCHEMA_VERSION) {
      throw new NewerSchemaError(found, POSTGRES_SCHEMA_VERSION);
    }
    if (found < POSTGRES_SCHEMA_VERSION && !forward) {
      throw new Error(
        found === 0
          ? 'no x402-gateway ledger in this database (no schema_version table): check the URL, or start a gateway on it first'
          : `its schema is version ${found}, older than this command's ${POSTGRES_SCHEMA_VERSION}: start a gateway of this version on it first (it migrates the schema), or use the command of the gateways' version`,
      );
    }
    if (found < POSTGRES_SCHEMA_VERSION) {
      if (!present) await client.query('CREATE TABLE schema_version (version integer NOT NULL)');
      for (const m of POSTGRES_MIGRATIONS) if (m.version > found) await client.query(m.sql);
      await client.query('DELETE FROM schema_version');
      await client.query('INSERT INTO schema_version (version) VALUES ($1)', [
        POSTGRES_SCHEMA_VERSION,
      ]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch((e: unknown) => (broken = asError(e)));
    throw err;
  } finally {
    client.release(broken);
  }
}

// -----------------------------------------------------------------------------------------------
// Errors.

/**
 * The batch as a whole failed and the database did not refuse an op: no connection, a lost one, a
 * deadline passed, the server shutting down. Nothing in it is known to be written.
 */
function isTrouble(err: unknown): boolean {
  if (!(err instanceof pg.DatabaseError)) return true;
  const code = err.code ?? '';
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('57') || // operator intervention: query_canceled (a deadline), admin_shutdown…
    code === '53300' || // too_many_connections
    code === '55P03' // lock_not_available
  );
}

/**
 * The server could not be reached, or the connection broke (not a deadline on a live server): the
 * store is unwritable until a probe answers. The socket's errors (ECONNREFUSED, ECONNRESET, …) and
 * the driver's own (a connection terminated, a connect or read timeout); the server's class 08 and
 * its shutdown codes.
 */
function isUnreachable(err: unknown): boolean {
  if (err instanceof pg.DatabaseError) {
    const code = err.code ?? '';
    return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
  }
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return /connection terminated|not queryable|timeout exceeded when trying to connect|query read timeout|connection (?:ended|closed)/i.test(
    err.message,
  );
}

/** A deadlock or a serialization failure: the batch may succeed when run again. */
function isRetryable(err: unknown): boolean {
  return err instanceof pg.DatabaseError && (err.code === '40P01' || err.code === '40001');
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The URL without its password (for logs and readiness). */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.searchParams.delete('password');
    return u.toString();
  } catch {
    return 'postgres (unparsable url)';
  }
}

/** A revenue total as the two revenue queries answer it. */
interface RevenueRow {
  route: string;
  network: string;
  asset: string;
  pay_to: string;
  amount: string;
  n: number;
}

function toRevenueTotal(r: RevenueRow): RevenueTotal {
  return {
    route: r.route,
    network: r.network,
    asset: r.asset,
    payTo: r.pay_to,
    amount: r.amount,
    count: r.n,
  };
}

// -----------------------------------------------------------------------------------------------
// Rows: how Postgres's bigints arrive (the row types and their mappers: rows.ts).

/** pg_type's oid of `bigint`. */
const INT8_OID = 20;

/** bigint (int8) columns and counts as numbers: unix ms and row counts stay below 2^53. */
function getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID) return parseInt8;
  return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
}

function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`the ledger read ${value}: beyond 2^53`);
  return n;
}
