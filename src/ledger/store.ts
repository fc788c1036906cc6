/**
 * The ledger's store interface: what the payment lifecycle, the reconciler and the operator
 * commands need from a book of record. SQLite implements it for one host (sqlite-ledger.ts); a
 * shared database can implement it for fleets. Every implementation passes the one conformance
 * suite (test/helpers/ledger-conformance.ts).
 *
 * Awaited writes resolve only once durable: a caller that has the answer may act on it (send the
 * settle request, count revenue). `audit` and `attempt` are appended with the next batch and never
 * awaited: losing one in a crash loses a line of history, never money.
 */
import type {
  Attempt,
  LedgerRecord,
  LedgerState,
  PaymentFacts,
  RecordFilter,
  Resolution,
  RevenueFilter,
  RevenueTotal,
  StateChange,
} from './record.js';
import type { InstanceFacts, LiveInstance } from './postgres-instances.js';
import type { WriteResult } from './sqlite-book.js';

export type { WriteResult };

/** A change or redemption that moved its record (false: it was not in a state the write allowed). */
export function moved(result: WriteResult): boolean {
  return result.kind === 'changed' && result.changed;
}

/** Which kind of trouble a ledger call met (the `kind` label of ledger_errors_total). */
export type LedgerErrorKind = 'open' | 'write' | 'read' | 'unavailable';

/** The ledger cannot answer: paid requests get 503, never a free pass. */
export class LedgerUnavailableError extends Error {
  readonly code = 'GW_ERR_LEDGER_UNAVAILABLE';
  constructor(
    message: string,
    readonly kind: LedgerErrorKind,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LedgerUnavailableError';
  }
}

export interface LedgerHooks {
  /** Seconds from a durable write's request to its acknowledgement. */
  onWrite?(seconds: number): void;
  /**
   * A record changed state through this store (a new record: `from` undefined). Lets a caller keep
   * counts per state without asking the database.
   */
  onMove?(from: LedgerState | undefined, to: LedgerState): void;
  onError?(kind: LedgerErrorKind, error: Error): void;
}

/**
 * Tells `hooks.onMove` about a durable write that moved its record to `to`: a `begun` that made a
 * new record or re-opened a released or declined one (a `begun` from settling or unknown is the
 * same payment seen again, no move), or a change that moved it to another state. Every store
 * reports through this one function, so the per-state counts mean the same whichever is used.
 */
export function reportMove(hooks: LedgerHooks, result: WriteResult, to: LedgerState): void {
  if (hooks.onMove === undefined) return;
  if (result.kind === 'begun') {
    if (result.from !== 'settling' && result.from !== 'unknown') hooks.onMove(result.from, to);
  } else if (result.kind === 'changed' && result.changed && result.from !== to) {
    hooks.onMove(result.from, to);
  }
}

export interface UnresolvedSummary {
  /** Records per unresolved state (`settling`, `unknown`). */
  readonly counts: Readonly<Record<string, number>>;
  /** Creation time (unix ms) of the oldest unresolved record. */
  readonly oldestAt: number | undefined;
}

export interface LedgerStore {
  /** `sqlite`, `memory`, …: for logs and readiness. */
  readonly kind: string;
  /** Where it lives (a file path), for logs. */
  readonly location: string;
  /** Open (migrating the schema forward, refusing a newer one). */
  open(): Promise<void>;
  /** Flush what is queued and close. */
  close(): Promise<void>;
  /** False while the store cannot write: the gateway answers paid requests 503. */
  readonly writable: boolean;

  /** Write-ahead: durable `settling` before any settle request is sent. */
  begin(facts: PaymentFacts, at: number): Promise<WriteResult>;
  /** Move a record that is in one of `from`; durable once resolved. */
  change(
    key: string,
    from: readonly LedgerState[],
    change: StateChange,
    by?: Resolution['by'],
    note?: string,
  ): Promise<WriteResult>;
  /**
   * Count one redemption (a response served again for a settled payment: its retry, or a credit)
   * if it is settled or confirmed, never delivered, and has fewer than `max`; durable once resolved.
   */
  redeem(key: string, max: number, at: number): Promise<WriteResult>;
  /** A payment that ended before settling (released, declined): appended with the next batch. */
  audit(facts: PaymentFacts, state: LedgerState, at: number): void;
  /** One request that touched a record: appended with the next batch. */
  attempt(attempt: Attempt): void;
  /**
   * Settles once every write queued before the call has been committed or has failed (never
   * rejects). A book several instances share has it: an instance lets another serve a record
   * again only once what it wrote about the record can be read there.
   */
  flushed?(): Promise<void>;
  /**
   * A book several instances share has it: writes this instance's heartbeat row, keeps it fresh
   * until `close()` (which deletes it), and answers the other instances live on the book.
   */
  joinFleet?(facts: InstanceFacts): Promise<LiveInstance[]>;

  get(key: string): Promise<LedgerRecord | undefined>;
  list(filter?: RecordFilter): Promise<LedgerRecord[]>;
  attempts(key: string): Promise<Attempt[]>;
  resolutions(key: string): Promise<Resolution[]>;
  /**
   * Paid money per (route, network, asset, payTo): every record's, or with `owner` only the
   * records that instance counted (a store that records no owner answers every record's).
   */
  revenue(filter?: RevenueFilter): Promise<RevenueTotal[]>;
  /**
   * A book several instances share has it: gives this store's owner (its `owner` option) the paid
   * records no instance owns (settled by an operator's command or an offline reconcile, or written
   * before owners were), in one statement, and answers their totals: revenue the caller now counts.
   */
  adopt?(): Promise<RevenueTotal[]>;
  unresolved(): Promise<UnresolvedSummary>;
  /** An online, consistent copy at `path`. */
  backup(path: string): Promise<void>;
}
