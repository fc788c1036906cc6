/**
 * In-memory replay guard: one record per authorization key `(chainId, asset, from, nonce)`.
 *
 * Lifecycle of a record:
 *   absent/expired --claim--> in-flight --release--> absent
 *                             in-flight --markSettled--> settled (until expiry)
 *                             in-flight --markPending--> pending (until expiry)
 *   pending --claim(same digest)--> in-flight (resumed)
 *
 * The digest of the payload is recorded when a claim goes pending (the only state that compares
 * it), so a claim never hashes a payload unless its key is pending.
 *
 * Each method runs synchronously and returns a plain value (no promise, no microtask on the paid
 * path), so a claim is an atomic check-and-set within one process.
 * Memory is bounded: expired records are swept incrementally on every claim (a few per call) and in
 * full when the store is full; past `maxEntries` live records, claims are refused (fail closed).
 * The records live in a sharded map, so that growing it never stalls every request at once.
 */
import { ShardedMap, type ShardedMapCursor } from './sharded-map.js';
import type { ClaimOutcome, ReplayGuard } from './types.js';

export interface InMemoryReplayGuardOptions {
  /** Max records held; a claim that would exceed it is `unavailable`. */
  readonly maxEntries: number;
  /** Clock in epoch ms (tests inject one). Default `Date.now`. */
  readonly now?: () => number;
}

type State = 'in-flight' | 'pending' | 'settled';

interface ReplayRecord {
  state: State;
  digest: string;
  transaction: string | undefined;
  readonly expiresAtMs: number;
}

/**
 * What the map holds for a key. A settled authorization (nearly every record, for as long as it
 * could be replayed) is only its expiry: whole seconds after the guard's start, a small integer V8
 * keeps unboxed in the map, instead of a record object and a boxed millisecond time (~45 bytes and
 * two allocations less per held payment).
 */
type Held = ReplayRecord | number;

/** Records examined per claim by the incremental sweep. */
const SWEEP_STEP = 4;

const CLAIMED: ClaimOutcome = Object.freeze({ kind: 'claimed' });
const USED: ClaimOutcome = Object.freeze({ kind: 'used' });
const UNAVAILABLE: ClaimOutcome = Object.freeze({ kind: 'unavailable' });

/** Single-process replay guard; see the module comment for the state machine. */
export class InMemoryReplayGuard implements ReplayGuard {
  readonly #records = new ShardedMap<Held>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** Origin of the settled records' expiry seconds. */
  readonly #epochMs: number;
  #cursor: ShardedMapCursor<Held> | undefined;
  /** Lower bound of every held record's expiry: nothing can be pruned before it. */
  #earliestExpiryMs = Number.POSITIVE_INFINITY;

  constructor(options: InMemoryReplayGuardOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${options.maxEntries}`);
    }
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
    this.#epochMs = this.#now();
  }

  /** Expiry in epoch ms of what the map holds. */
  #expiresAtMs(held: Held): number {
    return typeof held === 'number' ? this.#epochMs + held * 1000 : held.expiresAtMs;
  }

  release(key: string): void {
    this.#records.delete(key);
  }

  markPending(key: string, transaction: string | undefined, digest: string): void {
    const held = this.#records.get(key);
    // Absent means released or expired: then no settlement can be outstanding for it any more.
    if (typeof held === 'number') {
      this.#records.set(key, {
        state: 'pending',
        digest,
        transaction,
        expiresAtMs: this.#expiresAtMs(held),
      });
    } else if (held !== undefined) {
      held.state = 'pending';
      held.digest = digest;
      // A resumed claim that learns nothing new keeps the hash it already knew.
      held.transaction = transaction ?? held.transaction;
    }
  }

  markSettled(key: string, _transaction: string): void {
    const held = this.#records.get(key);
    if (held !== undefined && typeof held !== 'number') {
      // A settled record only has to answer "used" until it expires: its expiry is all it keeps.
      // The digest and the tx hash serve a resume of a pending settlement only (the tx hash is in
      // the access log). Rounded up to the second: held a little longer, never shorter.
      this.#records.set(key, Math.ceil((held.expiresAtMs - this.#epochMs) / 1000));
    }
  }

  size(): number {
    return this.#records.size;
  }

  /** Synchronous from the check to the set: atomic within the process. */
  claim(key: string, digest: () => string, expiresAtMs: number): ClaimOutcome {
    const now = this.#now();
    this.#sweep(now, SWEEP_STEP);
    const rec = this.#records.get(key);
    if (rec !== undefined && this.#expiresAtMs(rec) > now) {
      if (typeof rec !== 'number' && rec.state === 'pending' && rec.digest === digest()) {
        // Same payload, settlement unknown: this request takes over. A concurrent second resume
        // now sees in-flight and gets `used`.
        rec.state = 'in-flight';
        return { kind: 'resumed', transaction: rec.transaction };
      }
      return USED;
    }
    if (rec !== undefined) {
      this.#records.delete(key);
    } else if (this.#records.size >= this.#maxEntries) {
      this.#sweep(now, Number.POSITIVE_INFINITY);
      if (this.#records.size >= this.#maxEntries) return UNAVAILABLE;
    }
    this.#records.set(key, { state: 'in-flight', digest: '', transaction: undefined, expiresAtMs });
    if (expiresAtMs < this.#earliestExpiryMs) this.#earliestExpiryMs = expiresAtMs;
    return CLAIMED;
  }

  /**
   * Examine up to `budget` records from where the last sweep stopped and delete the expired ones.
   * With an infinite budget this is a full pass that also recomputes the earliest expiry.
   */
  #sweep(now: number, budget: number): void {
    if (now < this.#earliestExpiryMs) return; // nothing can have expired yet
    const full = budget === Number.POSITIVE_INFINITY;
    if (full) this.#cursor = undefined;
    let earliest = Number.POSITIVE_INFINITY;
    let cursor = this.#cursor ?? this.#records.cursor();
    for (let seen = 0; seen < budget; seen++) {
      const entry = cursor.next();
      if (entry === undefined) {
        // A complete pass: restart next time; after a full pass the bound is exact.
        if (full) {
          this.#earliestExpiryMs = earliest;
          return;
        }
        cursor = this.#records.cursor();
        if (this.#records.size === 0) break;
        continue;
      }
      const [key, held] = entry;
      const expiresAtMs = this.#expiresAtMs(held);
      if (expiresAtMs <= now) this.#records.delete(key);
      else if (expiresAtMs < earliest) earliest = expiresAtMs;
    }
    this.#cursor = cursor;
  }
}
