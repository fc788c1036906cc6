/**
 * A `LedgerStore` in memory, for unit tests of the code that writes the book (the payment
 * lifecycle, the reconciler, the operator commands). Its ops mean what SqliteBook's mean, op for op
 * (src/ledger/sqlite-book.ts), and it passes the same conformance suite
 * (test/unit/ledger/conformance.ts). It also enforces the schema's CHECKs: an amount that is not
 * decimal digits, or a state that is not a LedgerState, fails the write. Its hooks are called as
 * SqliteLedger calls them (`onWrite` per answered awaited write, with 0 s; `onMove`; `onError`).
 * Like SqliteLedger, it answers nothing before `open()` or after `close()` (kind `unavailable`).
 *
 * `failWrites = true` makes it a book that cannot write: awaited writes reject with
 * `LedgerUnavailableError` (kind `write`), `audit`/`attempt` are dropped (reported to
 * `hooks.onError`), and `writable` is false, so a test can prove that its caller fails closed.
 * Reads keep answering.
 *
 * Crashes (test-only): awaited writes (`begin`, `change`, `redeem`) are durable once answered, as
 * SqliteLedger's are; `audit` and `attempt` rows are visible to the next read at once but durable
 * only with the next awaited write (they ride in its batch) or `flush()` (SqliteLedger's lazy flush,
 * at most 20 ms later). `durable()` is what a crash now would leave, `crash()` is the crash itself:
 * a new, closed MemoryLedger holding only what was durable (open it to "restart").
 */
import {
  LEDGER_STATES,
  LedgerUnavailableError,
  PAID_STATES,
  reportMove,
  UNRESOLVED_STATES,
  type Attempt,
  type LedgerHooks,
  type LedgerRecord,
  type LedgerState,
  type LedgerStore,
  type PaymentFacts,
  type RecordFilter,
  type Resolution,
  type RevenueTotal,
  type StateChange,
  type UnresolvedSummary,
  type WriteResult,
} from '../../src/ledger/index.js';

export interface MemoryLedgerOptions {
  /** What `location` says (for logs). Default `memory`. */
  readonly location?: string;
  readonly hooks?: LedgerHooks;
}

const STATES = new Set<string>(LEDGER_STATES);
const PAID = new Set<LedgerState>(PAID_STATES);
const UNRESOLVED = new Set<LedgerState>(UNRESOLVED_STATES);

/** The NOT NULL columns a record's facts fill. */
const FACT_FIELDS = [
  'key',
  'digest',
  'x402Version',
  'route',
  'method',
  'path',
  'network',
  'asset',
  'decimals',
  'payTo',
  'payer',
  'amount',
  'nonce',
  'validBefore',
  'request',
] as const satisfies ReadonlyArray<keyof PaymentFacts>;

type MutableRecord = { -readonly [K in keyof LedgerRecord]: LedgerRecord[K] };

/** What the book holds: all of it, or the part a crash would leave. */
interface Contents {
  readonly records: ReadonlyMap<string, MutableRecord>;
  readonly attempts: readonly Attempt[];
  readonly resolutions: readonly Resolution[];
}

/** A write the schema refuses (the message SQLite would give). */
class RefusedWrite extends Error {}

export class MemoryLedger implements LedgerStore {
  readonly kind = 'memory';
  readonly location: string;
  /** While true, the book cannot write (see the file's comment). */
  failWrites = false;
  readonly #hooks: LedgerHooks;
  #open = false;
  readonly #records = new Map<string, MutableRecord>();
  readonly #attempts: Attempt[] = [];
  readonly #resolutions: Resolution[] = [];
  /**
   * The durable contents while appended rows wait for their batch (a copy taken before the first
   * of them); undefined when everything held is durable.
   */
  #durable: Contents | undefined = undefined;

  constructor(options: MemoryLedgerOptions = {}) {
    this.location = options.location ?? 'memory';
    this.#hooks = options.hooks ?? {};
  }

  get writable(): boolean {
    return this.#open && !this.failWrites;
  }

  open(): Promise<void> {
    this.#open = true;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#open = false;
    return Promise.resolve();
  }

  begin(facts: PaymentFacts, at: number): Promise<WriteResult> {
    return this.#write('settling', () => {
      const row = this.#records.get(facts.key);
      if (row === undefined) {
        checkFacts(facts, FACT_FIELDS);
        this.#records.set(facts.key, newRecord(facts, 'settling', at));
        return { kind: 'begun', from: undefined };
      }
      if (row.state === 'released' || row.state === 'declined') {
        // As SqliteBook's `reopen`: every fact is the new authorization's, and what the earlier,
        // unpaid attempt learnt is cleared.
        checkFacts(facts, FACT_FIELDS);
        const was = row.state;
        Object.assign(row, newRecord(facts, 'settling', at), { createdAt: row.createdAt });
        return { kind: 'begun', from: was };
      }
      if ((row.state === 'settling' || row.state === 'unknown') && row.digest === facts.digest) {
        row.updatedAt = at;
        return { kind: 'begun', from: row.state };
      }
      return { kind: 'conflict', state: row.state };
    });
  }

  change(
    key: string,
    from: readonly LedgerState[],
    change: StateChange,
    by?: Resolution['by'],
    note?: string,
  ): Promise<WriteResult> {
    return this.#write(change.state, () => {
      const row = this.#records.get(key);
      if (row === undefined || !from.includes(row.state)) {
        return { kind: 'changed', changed: false, from: row?.state };
      }
      checkState(change.state);
      const was = row.state;
      const at = change.at ?? Date.now();
      row.state = change.state;
      if (change.transaction !== undefined) row.transaction = change.transaction;
      if (change.detail !== undefined) row.detail = change.detail;
      row.updatedAt = at;
      if (PAID.has(change.state)) row.settledAt ??= at;
      if (change.state === 'confirmed') row.confirmedAt ??= at;
      if (by !== undefined) {
        this.#resolutions.push({
          key,
          from: was,
          to: change.state,
          by,
          note: note ?? change.detail ?? '',
          at,
        });
      }
      return { kind: 'changed', changed: true, from: was };
    });
  }

  redeem(key: string, max: number, at: number): Promise<WriteResult> {
    return this.#write(undefined, () => {
      const row = this.#records.get(key);
      const changed =
        row !== undefined &&
        row.redemptions < max &&
        row.deliveredAt === undefined &&
        (row.state === 'settled' || row.state === 'confirmed');
      if (changed) {
        row.redemptions += 1;
        row.updatedAt = at;
        this.#resolutions.push({
          key,
          from: row.state,
          to: row.state,
          by: 'redemption',
          note: 'served again',
          at,
        });
      }
      return { kind: 'changed', changed, from: row?.state };
    });
  }

  audit(facts: PaymentFacts, state: LedgerState, at: number): void {
    this.#append(() => {
      const row = this.#records.get(facts.key);
      if (row === undefined) {
        checkFacts(facts, FACT_FIELDS);
        checkState(state);
        this.#records.set(facts.key, newRecord(facts, state, at));
      } else if (row.state === 'released' || row.state === 'declined') {
        checkState(state);
        row.state = state;
        row.updatedAt = at;
      }
    });
  }

  attempt(attempt: Attempt): void {
    this.#append(() => {
      this.#attempts.push({ ...attempt });
      if (attempt.delivered) {
        const row = this.#records.get(attempt.key);
        if (row !== undefined) row.deliveredAt ??= attempt.endedAt;
      }
    });
  }

  /** Test-only: the batch the appended rows wait for has committed (they are durable now). */
  flush(): void {
    this.#durable = undefined;
  }

  /**
   * Test-only: what a crash now would leave, as a new, closed MemoryLedger (this one goes on):
   * every answered awaited write, and the appended rows an awaited write or `flush()` committed.
   */
  durable(): MemoryLedger {
    const survivor = new MemoryLedger({ location: this.location });
    const kept = this.#durable ?? this.#contents();
    for (const [key, row] of kept.records) survivor.#records.set(key, { ...row });
    survivor.#attempts.push(...kept.attempts.map((a) => ({ ...a })));
    survivor.#resolutions.push(...kept.resolutions.map((r) => ({ ...r })));
    return survivor;
  }

  /**
   * Test-only: the process dies. Returns what survives (`durable()`, closed: open it to restart);
   * this one answers nothing more, like a store whose process is gone.
   */
  crash(): MemoryLedger {
    const survivor = this.durable();
    this.#open = false;
    return survivor;
  }

  get(key: string): Promise<LedgerRecord | undefined> {
    return this.#read(() => {
      const row = this.#records.get(key);
      return row === undefined ? undefined : { ...row };
    });
  }

  list(filter: RecordFilter = {}): Promise<LedgerRecord[]> {
    return this.#read(() => {
      let rows = [...this.#records.values()].filter(
        (r) =>
          (filter.states === undefined || filter.states.includes(r.state)) &&
          (filter.since === undefined || r.createdAt >= filter.since) &&
          (filter.settledSince === undefined ||
            (r.settledAt !== undefined && r.settledAt >= filter.settledSince)) &&
          (filter.networks === undefined || filter.networks.includes(r.network)) &&
          (filter.validBeforeFrom === undefined || r.validBefore >= filter.validBeforeFrom) &&
          (filter.undelivered !== true || (PAID.has(r.state) && r.deliveredAt === undefined)),
      );
      rows.sort(
        (a, b) => a.createdAt - b.createdAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
      );
      // SQLite's LIMIT: a negative one is no limit.
      const limit = filter.limit === undefined ? -1 : Math.floor(filter.limit);
      if (limit >= 0) rows = rows.slice(0, limit);
      return rows.map((r) => ({ ...r }));
    });
  }

  attempts(key: string): Promise<Attempt[]> {
    return this.#read(() => this.#attempts.filter((a) => a.key === key).map((a) => ({ ...a })));
  }

  resolutions(key: string): Promise<Resolution[]> {
    return this.#read(() => this.#resolutions.filter((r) => r.key === key).map((r) => ({ ...r })));
  }

  revenue(): Promise<RevenueTotal[]> {
    return this.#read(() => {
      const totals = new Map<string, { total: RevenueTotal; sum: bigint }>();
      for (const r of this.#records.values()) {
        if (!PAID.has(r.state)) continue;
        const id = `${r.route}\n${r.network}\n${r.asset}\n${r.payTo}`;
        let t = totals.get(id);
        if (t === undefined) {
          const total = { route: r.route, network: r.network, asset: r.asset, payTo: r.payTo };
          t = { total: { ...total, amount: '0', count: 0 }, sum: 0n };
          totals.set(id, t);
        }
        t.sum += BigInt(r.amount);
        t.total = { ...t.total, count: t.total.count + 1 };
      }
      return [...totals.values()].map((t) => ({ ...t.total, amount: t.sum.toString() }));
    });
  }

  unresolved(): Promise<UnresolvedSummary> {
    return this.#read(() => {
      const counts: Record<string, number> = {};
      let oldestAt: number | undefined;
      for (const r of this.#records.values()) {
        if (!UNRESOLVED.has(r.state)) continue;
        counts[r.state] = (counts[r.state] ?? 0) + 1;
        if (oldestAt === undefined || r.createdAt < oldestAt) oldestAt = r.createdAt;
      }
      return { counts, oldestAt };
    });
  }

  backup(_path: string): Promise<void> {
    return Promise.reject(
      new LedgerUnavailableError('backup is not supported by the memory ledger', 'read'),
    );
  }

  /**
   * An awaited write: all or nothing, answered once applied. `to` is the state it moves its record
   * to (begin, change), for `onMove`.
   */
  #write(to: LedgerState | undefined, apply: () => WriteResult): Promise<WriteResult> {
    const refused = this.#refusal();
    if (refused !== undefined) {
      this.#hooks.onError?.(refused.kind, refused);
      return Promise.reject(refused);
    }
    try {
      const result = apply();
      // Answered: durable, and so is every row appended before it (they rode in its batch).
      this.#durable = undefined;
      this.#hooks.onWrite?.(0);
      if (to !== undefined) reportMove(this.#hooks, result, to);
      return Promise.resolve(result);
    } catch (err) {
      const failure = new LedgerUnavailableError(`ledger write: ${message(err)}`, 'write', {
        cause: err,
      });
      this.#hooks.onError?.('write', failure);
      return Promise.reject(failure);
    }
  }

  /** A fire-and-forget write: a failure is reported to the hooks, never thrown. */
  #append(apply: () => void): void {
    const refused = this.#refusal();
    if (refused !== undefined) {
      this.#hooks.onError?.(refused.kind, refused);
      return;
    }
    // Not durable until the next batch commits: keep what a crash before then would leave.
    this.#durable ??= this.#contents();
    try {
      apply();
    } catch (err) {
      this.#hooks.onError?.('write', err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** A copy of everything held now. */
  #contents(): Contents {
    return {
      records: new Map([...this.#records].map(([key, row]) => [key, { ...row }])),
      attempts: this.#attempts.map((a) => ({ ...a })),
      resolutions: this.#resolutions.map((r) => ({ ...r })),
    };
  }

  #read<T>(read: () => T): Promise<T> {
    if (!this.#open) {
      return Promise.reject(new LedgerUnavailableError('the ledger is not open', 'unavailable'));
    }
    return Promise.resolve(read());
  }

  #refusal(): LedgerUnavailableError | undefined {
    if (!this.#open) return new LedgerUnavailableError('the ledger is not open', 'unavailable');
    if (this.failWrites) {
      return new LedgerUnavailableError('ledger write: the memory ledger fails writes', 'write');
    }
    return undefined;
  }
}

function newRecord(facts: PaymentFacts, state: LedgerState, at: number): MutableRecord {
  const record: MutableRecord = {
    key: facts.key,
    state,
    digest: facts.digest,
    x402Version: facts.x402Version,
    route: facts.route,
    method: facts.method,
    path: facts.path,
    network: facts.network,
    asset: facts.asset,
    decimals: facts.decimals,
    payTo: facts.payTo,
    payer: facts.payer,
    amount: facts.amount,
    nonce: facts.nonce,
    validBefore: facts.validBefore,
    request: facts.request,
    transaction: undefined,
    createdAt: at,
    updatedAt: at,
    settledAt: undefined,
    confirmedAt: undefined,
    deliveredAt: undefined,
    redemptions: 0,
    detail: undefined,
  };
  return record;
}

/** The payments table's NOT NULL and CHECK constraints on the facts a write stores. */
function checkFacts(facts: PaymentFacts, fields: ReadonlyArray<keyof PaymentFacts>): void {
  for (const field of fields) {
    if (facts[field] === undefined || facts[field] === null) {
      throw new RefusedWrite(`NOT NULL constraint failed: payments.${field}`);
    }
  }
  if (!fields.includes('amount')) return;
  if (typeof facts.amount !== 'string' || !/^[0-9]+$/.test(facts.amount)) {
    throw new RefusedWrite(`CHECK constraint failed: amount is not decimal digits`);
  }
}

function checkState(state: string): void {
  if (!STATES.has(state)) throw new RefusedWrite(`CHECK constraint failed: state ${state}`);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
