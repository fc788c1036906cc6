/**
 * What the book of record holds: one row per payment that reached the gateway's settlement path
 * (or was claimed and ended before it, for audit), one attempt row per request that touched it,
 * and one resolution row per state change made after the request (the reconciler, an operator).
 * Amounts are atomic units as decimal text, summed as BigInt; times are unix milliseconds.
 */

/**
 * A record's state. `settling` is the write-ahead state (durable before the settle request is
 * sent); `settling` and `unknown` are unresolved: the money may have moved. `settled` becomes
 * `confirmed` (the chain shows our Transfer at `confirmations` blocks) or `disputed` (the hash
 * reverted or vanished). `released` and `declined` moved no money; `failed` can never pay.
 */
export type LedgerState =
  | 'released'
  | 'declined'
  | 'settling'
  | 'unknown'
  | 'settled'
  | 'confirmed'
  | 'disputed'
  | 'failed';

export const LEDGER_STATES: readonly LedgerState[] = Object.freeze([
  'released',
  'declined',
  'settling',
  'unknown',
  'settled',
  'confirmed',
  'disputed',
  'failed',
]);

/** The money may have moved and nobody knows yet: the reconciler visits these. */
export const UNRESOLVED_STATES: readonly LedgerState[] = Object.freeze(['settling', 'unknown']);

/** Our transfer landed: these count as revenue. */
export const PAID_STATES: readonly LedgerState[] = Object.freeze([
  'settled',
  'confirmed',
  'disputed',
]);

/** The facts of a payment, fixed when its record is first written. */
export interface PaymentFacts {
  /** The replay key `chainId:asset:from:nonce` (lower case): the record's identity. */
  readonly key: string;
  /** sha256 of the payment header and route: a retry with the same payload has the same one. */
  readonly digest: string;
  readonly x402Version: number;
  readonly route: string;
  readonly method: string;
  /** The canonical path (and query) the payment bought. */
  readonly path: string;
  /** CAIP-2, e.g. `eip155:8453`. */
  readonly network: string;
  readonly asset: string;
  readonly decimals: number;
  readonly payTo: string;
  readonly payer: string;
  /** Atomic units, decimal text. */
  readonly amount: string;
  readonly nonce: string;
  /** The authorization's validBefore, unix seconds. */
  readonly validBefore: number;
  /**
   * The body of `/settle` as first sent (JSON): the payload and OUR requirement. A retry is matched
   * against it and re-sends it identically; the current price table never decides an old payment.
   */
  readonly request: string;
}

export interface LedgerRecord extends PaymentFacts {
  readonly state: LedgerState;
  readonly transaction: string | undefined;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly settledAt: number | undefined;
  readonly confirmedAt: number | undefined;
  /** When a paid response first went out whole; undefined = never (a refund or a redemption). */
  readonly deliveredAt: number | undefined;
  /** Served again without settling (a retry of a settled, undelivered payment, or a credit). */
  readonly redemptions: number;
  /** The last thing learnt about it (a facilitator's or the chain's words, an operator's note). */
  readonly detail: string | undefined;
  /**
   * On a shared book (Postgres): the instance (`server.instance`) that counted this payment's
   * revenue, written with its move to settled; undefined for a record no running gateway counted
   * yet (settled by an operator's command, or by a gateway older than schema v3) until an instance
   * adopts it at its start, and always on SQLite (one file, one gateway: every record is its own).
   */
  readonly owner?: string | undefined;
}

/** A change of state, with what was learnt. Fields left out keep their value. */
export interface StateChange {
  readonly state: LedgerState;
  readonly transaction?: string | undefined;
  readonly detail?: string | undefined;
  /** Unix ms; now when left out. */
  readonly at?: number;
}

/** One request that touched a record. */
export interface Attempt {
  readonly key: string;
  readonly requestId: string;
  /** The request's outcome label (paid, settlement_pending, redeemed, …). */
  readonly outcome: string;
  /** HTTP status sent to the client (0 when none went out). */
  readonly status: number;
  /** The upstream's response was sent (headers at least). */
  readonly served: boolean;
  /** It went out whole (the body ended and the response finished). */
  readonly delivered: boolean;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** Who changed a record after its request: the reconciler, or an operator's decision. */
export interface Resolution {
  readonly key: string;
  readonly from: LedgerState;
  readonly to: LedgerState;
  readonly by: 'reconciler' | 'operator' | 'redemption';
  readonly note: string;
  readonly at: number;
}

/** Settled money per (route, network, asset, payTo), atomic units as decimal text. */
export interface RevenueTotal {
  readonly route: string;
  readonly network: string;
  readonly asset: string;
  readonly payTo: string;
  readonly amount: string;
  readonly count: number;
}

/** Which paid records a revenue total sums. */
export interface RevenueFilter {
  /**
   * Only the records this instance owns (LedgerRecord.owner). A store that records no owner
   * (SQLite: one file, one gateway) sums every record whatever the owner asked.
   */
  readonly owner?: string;
}

export interface RecordFilter {
  readonly states?: readonly LedgerState[];
  /** Created at or after, unix ms. */
  readonly since?: number;
  /** Settled at or after, unix ms (a record settles long after its creation if it was unknown). */
  readonly settledSince?: number;
  /** Only settled payments never delivered (refund candidates). */
  readonly undelivered?: boolean;
  /** Only authorizations with validBefore at or after this (unix seconds). */
  readonly validBeforeFrom?: number;
  /** Only these networks (CAIP-2). */
  readonly networks?: readonly string[];
  readonly limit?: number;
}
