/**
 * One request's hold on a payment, from its claim to its end, as an explicit state machine. Every
 * move is a compare-and-set against the table below (an illegal one throws: it is a bug), and the
 * replay guard and the verify cache are written here alone, in one switch, so every exit path
 * leaves the payment's records in the state the money is in:
 *
 *   claimed ─► verified ─► forwarded ─► settling ─► settled | declined | unknown | failed
 *      │           │            │                      │
 *      │           │            │                      └─► delivered  (the response went out whole)
 *      └───────────┴────────────┴─► released  (nothing moved: the same signature may pay again)
 *
 * A resumed payment (its earlier settlement is unknown) skips verification, and where a fresh one
 * would be released it goes back to `unknown` instead: the earlier broadcast may still land.
 *
 * With a ledger, `settling` is entered only once its record is durable (write-ahead): no settle
 * request is ever sent for a payment the book does not hold. Every later end is written there too;
 * a payment that ends before settling is appended for audit.
 * No HTTP objects: the stages adapt between the request and this.
 */
import {
  moved,
  type LedgerState,
  type LedgerStore,
  type PaymentFacts as RecordFacts,
} from '../ledger/index.js';
import type { Awaitable, ReplayGuard, VerifyCache } from '../verify/index.js';
import type { VerifyResponse } from '../x402/index.js';

export type PaymentState =
  | 'claimed'
  | 'verified'
  | 'forwarded'
  | 'settling'
  | 'released'
  | 'settled'
  | 'delivered'
  | 'declined'
  | 'unknown'
  | 'failed';

/** The legal moves. `unknown` before `settling` is a resumed payment going back to pending. */
export const TRANSITIONS: Readonly<Record<PaymentState, readonly PaymentState[]>> = Object.freeze({
  claimed: ['verified', 'forwarded', 'released', 'unknown'],
  verified: ['forwarded', 'released'],
  forwarded: ['settling', 'released', 'unknown'],
  settling: ['settled', 'declined', 'unknown', 'failed'],
  released: [],
  settled: ['delivered'],
  delivered: [],
  declined: [],
  unknown: [],
  failed: [],
});

/** A move the table does not allow: a bug in the caller, never a client's doing. */
export class IllegalTransitionError extends Error {
  readonly code = 'GW_ERR_PAYMENT_TRANSITION';
  constructor(from: PaymentState, to: PaymentState) {
    super(`payment: ${from} → ${to} is not a legal transition`);
    this.name = 'IllegalTransitionError';
  }
}

/**
 * The replay store no longer holds this request's claim (another instance took it over after its
 * lease lapsed) or cannot say so: no settle request may be sent (never settle without a claim).
 */
export class ClaimLostError extends Error {
  readonly code = 'GW_ERR_CLAIM_LOST';
  constructor(key: string) {
    super(`payment ${key}: the replay claim is no longer held (or the store cannot answer)`);
    this.name = 'ClaimLostError';
  }
}

/** Where a payment's state lives beyond this request. */
export interface PaymentStores {
  readonly replay: ReplayGuard;
  readonly verifyCache: VerifyCache;
  /** The book of record; undefined when the gateway runs without one (`ledger: false`). */
  readonly ledger: LedgerStore | undefined;
}

/** What the write-ahead found. */
export type SettlingOutcome =
  /** Durable (or no ledger): the settle request may be sent. */
  | { readonly kind: 'settling' }
  /** The book already holds this authorization in another state (it settled, or failed). */
  | { readonly kind: 'recorded'; readonly state: LedgerState };

const UNRESOLVED: readonly LedgerState[] = ['settling', 'unknown'];

export interface PaymentFacts {
  /** The replay key `(chainId, asset, from, nonce)`. */
  readonly key: string;
  /** The digest of this payload (computed on first use). */
  readonly digestOf: () => string;
  /** validBefore, bounded to what the stores keep (unix seconds): the verify cache's horizon. */
  readonly holdUntilSec: number;
  /** True when this request took over an earlier, unknown settlement. */
  readonly resumed: boolean;
  /** That earlier settlement's transaction hash, when it gave one. */
  readonly priorTransaction: string | undefined;
  /**
   * The book's facts of this payment, built on demand: for the write-ahead record, or the audit
   * row of a payment released after its upstream ran. Undefined without a ledger.
   */
  readonly recordOf?: (() => RecordFacts) | undefined;
}

const SETTLING: SettlingOutcome = Object.freeze({ kind: 'settling' });

export class Payment {
  #state: PaymentState = 'claimed';
  /** The facilitator's verdict, put back in the verify cache if this payment is released. */
  #verdict: VerifyResponse | undefined = undefined;
  /** The book's facts, once the write-ahead record is durable. */
  #record: RecordFacts | undefined = undefined;

  constructor(
    private readonly stores: PaymentStores,
    readonly facts: PaymentFacts,
  ) {}

  get state(): PaymentState {
    return this.#state;
  }

  /** True once the payment has an end state (no further move is legal). */
  get ended(): boolean {
    return TRANSITIONS[this.#state].length === 0;
  }

  /** True once what happened to the money is decided for this request (from `released` on). */
  get decided(): boolean {
    const s = this.#state;
    return s !== 'claimed' && s !== 'verified' && s !== 'forwarded' && s !== 'settling';
  }

  /**
   * The verdict on this payment, from the cache or the facilitator. A valid one moves it to
   * `verified`; an invalid one leaves it claimed for the caller to release (it is cached then, so
   * the same payload is refused without a facilitator call).
   */
  recordVerdict(verdict: VerifyResponse): void {
    this.#verdict = verdict;
    if (verdict.isValid) this.#move('verified');
  }

  /** The upstream answered (status and headers): the response is held, not yet sent. */
  forwarded(): void {
    // Only a resumed payment is forwarded unverified (its authorization may be on chain already).
    if (this.#state === 'claimed' && !this.facts.resumed) {
      throw new IllegalTransitionError(this.#state, 'forwarded');
    }
    this.#move('forwarded');
  }

  /**
   * A settle request is about to be sent: from here on the money may move. With a ledger the
   * record is made durable first; this rejects (LedgerUnavailableError) when it cannot be, and the
   * payment stays `forwarded` for the caller to release: nothing was sent. It rejects with
   * ClaimLostError, likewise, when a shared replay store no longer holds this claim.
   */
  async settling(): Promise<SettlingOutcome> {
    if (!TRANSITIONS[this.#state].includes('settling')) {
      throw new IllegalTransitionError(this.#state, 'settling');
    }
    // A shared store (Redis) marks the claim settling, owner-checked: from here a takeover resumes
    // this settlement, never sends a fresh one. An in-memory guard has no such step.
    const held = this.stores.replay.settling?.(this.facts.key);
    if (held !== undefined && !(await held)) throw new ClaimLostError(this.facts.key);
    const ledger = this.stores.ledger;
    if (ledger !== undefined) {
      const record = this.facts.recordOf?.();
      if (record === undefined) throw new Error('payment: a ledger needs the facts of its record');
      const written = await ledger.begin(record, Date.now());
      if (written.kind === 'conflict') return { kind: 'recorded', state: written.state };
      this.#record = record;
    }
    this.#move('settling');
    return SETTLING;
  }

  /**
   * Nothing was charged (refused, upstream failed, client gone): a fresh payment is released, with
   * its verdict cached for a retry; a resumed one goes back to pending.
   */
  release(): Awaitable<void> {
    if (this.facts.resumed) return this.#pending(undefined);
    // The upstream ran for it (then failed, or the client left): kept for audit, never awaited.
    // A verify refusal is not: it would let anyone with a bad signature write to the book.
    const upstreamRan = this.#state === 'forwarded';
    this.#move('released');
    if (upstreamRan && this.stores.ledger !== undefined && this.facts.recordOf !== undefined) {
      this.stores.ledger.audit(this.facts.recordOf(), 'released', Date.now());
    }
    const { key, digestOf, holdUntilSec } = this.facts;
    if (this.#verdict !== undefined) {
      this.stores.verifyCache.set(key, digestOf(), this.#verdict, holdUntilSec);
    }
    return this.stores.replay.release(key);
  }

  /**
   * The settlement's outcome: the one place a settled, declined, unknown or failed payment ends.
   * With a ledger, resolves to true when this call moved the record (a settled payment counts as
   * revenue then, exactly once) and false when the book could not be written or had already
   * moved (the reconciler got there first): the money is decided either way.
   */
  async end(
    outcome: 'settled' | 'declined' | 'unknown' | 'failed',
    transaction?: string,
    detail?: string,
  ): Promise<boolean> {
    switch (outcome) {
      case 'settled':
      case 'failed': {
        // Spent: our transfer landed, or the authorization can never pay. Remembered until expiry.
        this.#move(outcome);
        // A settled payment's response goes out next: a shared store holds it until it has ended.
        const marked = this.stores.replay.markSettled(
          this.facts.key,
          transaction ?? '',
          outcome === 'settled',
        );
        if (marked !== undefined) await marked;
        return this.#write(outcome, transaction, detail);
      }
      case 'declined': {
        // Nothing moved, proven: usable again, but the facilitator's earlier "valid" is not kept.
        if (this.facts.resumed) {
          await this.#pending(transaction);
          return this.#write('unknown', transaction, detail);
        }
        this.#move('declined');
        this.#verdict = undefined;
        const released = this.stores.replay.release(this.facts.key);
        if (released !== undefined) await released;
        return this.#write('declined', transaction, detail);
      }
      case 'unknown':
        await this.#pending(transaction);
        return this.#write('unknown', transaction, detail);
    }
  }

  /** Record the end of a settlement; false when there is no book, or it did not move. */
  async #write(state: LedgerState, transaction?: string, detail?: string): Promise<boolean> {
    const ledger = this.stores.ledger;
    if (ledger === undefined || this.#record === undefined) return false;
    try {
      const written = await ledger.change(this.facts.key, UNRESOLVED, {
        state,
        transaction,
        detail,
      });
      return moved(written);
    } catch {
      // Counted by the ledger's hooks. The record stays unresolved, and the reconciler ends it.
      return false;
    }
  }

  /** The facts the book holds for this payment, once written. */
  get record(): RecordFacts | undefined {
    return this.#record;
  }

  /**
   * The paid response went out whole (the upstream body ended and the response finished). A
   * settled payment that never gets here was charged without its response arriving whole.
   */
  delivered(): void {
    this.#move('delivered');
  }

  /**
   * The request ended without deciding the payment (a bug, or a throw): if a settle request may
   * have been sent the money may have moved, so it stays pending; otherwise it is released.
   */
  async abandon(transaction: string | undefined): Promise<void> {
    if (this.decided) return;
    if (this.#state === 'settling') {
      await this.#pending(transaction);
      await this.#write('unknown', transaction, 'the request ended during its settlement');
      return;
    }
    await this.release();
  }

  #pending(transaction: string | undefined): Awaitable<void> {
    this.#move('unknown');
    const { key, digestOf, priorTransaction } = this.facts;
    return this.stores.replay.markPending(key, transaction ?? priorTransaction, digestOf());
  }

  #move(to: PaymentState): void {
    if (!TRANSITIONS[this.#state].includes(to)) throw new IllegalTransitionError(this.#state, to);
    this.#state = to;
  }
}
