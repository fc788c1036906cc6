/**
 * The ledger's rows as both SQL stores read and write them: the row types, the mappers to the
 * records the store interface answers with, and the column values a write binds. SQLite
 * (sqlite-book.ts) and Postgres (postgres-ledger.ts) share one table layout (schema.ts,
 * postgres-schema.ts), so a row maps the same way in each; what differs between the drivers (how a
 * flag or a bigint arrives, the SQL and how parameters are bound) is a parameter here or stays in
 * the store that needs it.
 */
import {
  PAID_STATES,
  type Attempt,
  type LedgerRecord,
  type LedgerState,
  type PaymentFacts,
  type Resolution,
  type StateChange,
} from './record.js';

const PAID = new Set<LedgerState>(PAID_STATES);

/** A `payments` row (`SELECT *`). */
export interface PaymentRow {
  key: string;
  state: LedgerState;
  digest: string;
  x402_version: number;
  route: string;
  method: string;
  path: string;
  network: string;
  asset: string;
  decimals: number;
  pay_to: string;
  payer: string;
  amount: string;
  nonce: string;
  valid_before: number;
  request: string;
  tx: string | null;
  created_at: number;
  updated_at: number;
  settled_at: number | null;
  confirmed_at: number | null;
  delivered_at: number | null;
  redemptions: number;
  detail: string | null;
  /** Postgres only (schema v3); SQLite's rows have no such column. */
  owner?: string | null;
}

/**
 * An `attempts` row. `Flag` is how the driver returns `served` and `delivered`: SQLite has no
 * boolean type (0 or 1), Postgres answers a boolean.
 */
export interface AttemptRow<Flag> {
  key: string;
  request_id: string;
  outcome: string;
  status: number;
  served: Flag;
  delivered: Flag;
  started_at: number;
  ended_at: number;
}

/** A `resolutions` row. */
export interface ResolutionRow {
  key: string;
  at: number;
  from_state: LedgerState;
  to_state: LedgerState;
  by: Resolution['by'];
  note: string;
}

/** A payments row as a record: SQL NULLs become absent fields. */
export function toRecord(r: PaymentRow): LedgerRecord {
  return {
    key: r.key,
    state: r.state,
    digest: r.digest,
    x402Version: r.x402_version,
    route: r.route,
    method: r.method,
    path: r.path,
    network: r.network,
    asset: r.asset,
    decimals: r.decimals,
    payTo: r.pay_to,
    payer: r.payer,
    amount: r.amount,
    nonce: r.nonce,
    validBefore: r.valid_before,
    request: r.request,
    transaction: r.tx ?? undefined,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    settledAt: r.settled_at ?? undefined,
    confirmedAt: r.confirmed_at ?? undefined,
    deliveredAt: r.delivered_at ?? undefined,
    redemptions: r.redemptions,
    detail: r.detail ?? undefined,
    owner: r.owner ?? undefined,
  };
}

/** An attempts row as an attempt; `isSet` reads the driver's flag (see AttemptRow). */
export function toAttempt<Flag>(r: AttemptRow<Flag>, isSet: (flag: Flag) => boolean): Attempt {
  return {
    key: r.key,
    requestId: r.request_id,
    outcome: r.outcome,
    status: r.status,
    served: isSet(r.served),
    delivered: isSet(r.delivered),
    startedAt: r.started_at,
    endedAt: r.ended_at,
  };
}

/** A resolutions row as a resolution. */
export function toResolution(r: ResolutionRow): Resolution {
  return {
    key: r.key,
    from: r.from_state,
    to: r.to_state,
    by: r.by,
    note: r.note,
    at: r.at,
  };
}

/** Per-state counts and the oldest creation time, from `SELECT state, count(*), min(created_at)`. */
export function toUnresolvedSummary(
  rows: readonly { readonly state: string; readonly n: number; readonly oldest: number }[],
): { readonly counts: Record<string, number>; readonly oldestAt: number | undefined } {
  const counts: Record<string, number> = {};
  let oldestAt: number | undefined;
  for (const r of rows) {
    counts[r.state] = r.n;
    if (oldestAt === undefined || r.oldest < oldestAt) oldestAt = r.oldest;
  }
  return { counts, oldestAt };
}

// -----------------------------------------------------------------------------------------------
// Writes: column values in the order both stores' statements bind them.

/** Every fact but the key, in the payments table's column order (`digest` … `request`). */
export function factValues(f: PaymentFacts): unknown[] {
  return [
    f.digest,
    f.x402Version,
    f.route,
    f.method,
    f.path,
    f.network,
    f.asset,
    f.decimals,
    f.payTo,
    f.payer,
    f.amount,
    f.nonce,
    f.validBefore,
    f.request,
  ];
}

/**
 * What a state change writes: state, tx, detail, updated_at, then the settled_at and confirmed_at
 * it stamps (the first move into a paid state, into `confirmed`; the statement keeps an earlier
 * stamp). A transaction or detail left out is NULL: the statement keeps the old value.
 */
export function changeValues(c: StateChange, at: number): unknown[] {
  return [
    c.state,
    c.transaction ?? null,
    c.detail ?? null,
    at,
    PAID.has(c.state) ? at : null,
    c.state === 'confirmed' ? at : null,
  ];
}
