/**
 * Token buckets keyed by address, in a table of fixed size: the store of the rate limits
 * (rate-limits.ts). Memory is bounded whatever the number of distinct addresses: past `maxKeys`
 * the least recently used entry (CLOCK, per shard) is forgotten, and a forgotten address starts
 * again with a full bucket. Forgetting only ever lets more through: limits fail open.
 *
 * Why not lru-cache or a Map of objects: each entry here is a Map slot and a few typed-array cells,
 * no object per address, no allocation per check once the table is full. The table is split in
 * {@link SHARDS} Maps (by a hash of the key) so a Map's rehash under churn copies 1/64 of the
 * entries at a time, never all of them between two requests (the trap sharded-map.ts describes).
 *
 * A bucket holds up to `burst` tokens and refills at `ratePerSec`, lazily: on each touch it adds
 * what the time since the last touch is worth. Each entry also keeps what the fleet sync needs
 * (rate-limits.ts): its spends not yet pushed, and what was pushed and deducted in the current
 * sync window.
 */

/** Tokens per second and bucket size. */
export interface BucketLimit {
  readonly ratePerSec: number;
  readonly burst: number;
}

export interface TokenBucketsOptions {
  /** Most keys held; past it the least recently used is forgotten. */
  readonly maxKeys: number;
  readonly limit: BucketLimit;
  /** Epoch ms (tests inject a clock). Default Date.now. */
  readonly now?: () => number;
}

/** Spends taken out of the table by {@link TokenBuckets.drain}, to push to the fleet. */
export interface PendingSpends {
  readonly window: number;
  readonly slots: number[];
  readonly keys: string[];
  readonly counts: number[];
}

const SHARDS = 64;

/** FNV-1a over the key's UTF-16 code units: spreads IPv4 keys, IPv6 /64 keys and hex addresses. */
export function shardHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

/** Syncs after a push in which its key's fleet total is read again, with nothing to push (#echo). */
const ECHO_SYNCS = 2;

export class TokenBuckets {
  readonly #now: () => number;
  readonly #perShard: number;
  readonly #maps: Map<string, number>[];
  /** The key each slot holds ('' = free). */
  readonly #keys: string[];
  /** CLOCK hand of each shard (a slot index within the shard). */
  readonly #hands: Uint32Array;
  /** Slots used in each shard, filled in order before the hand starts evicting. */
  readonly #used: Uint32Array;
  readonly #tokens: Float64Array;
  readonly #last: Float64Array;
  /** Touched since the hand last passed: kept over an untouched one. */
  readonly #ref: Uint8Array;
  /** Spends not yet pushed to the fleet. */
  readonly #pending: Uint32Array;
  /** The sync window the two counts below belong to. */
  readonly #window: Float64Array;
  /** This instance's spends pushed in that window. */
  readonly #pushed: Float64Array;
  /** Other instances' spends in that window already taken out of the bucket. */
  readonly #applied: Float64Array;
  /**
   * Syncs left in which a slot that pushed spends reads the fleet's total again: the other
   * instances' spends of the same moments reach Redis after ours, so one read at our push can miss
   * them all.
   */
  readonly #echo: Uint8Array;
  /** Slots with pending spends, each once (#dirtyMark). */
  #dirty: number[] = [];
  readonly #dirtyMark: Uint8Array;
  #ratePerMs = 0;
  #ratePerSec = 0;
  #burst = 0;
  #size = 0;

  constructor(options: TokenBucketsOptions) {
    this.#now = options.now ?? Date.now;
    this.#perShard = Math.max(1, Math.ceil(options.maxKeys / SHARDS));
    const n = this.#perShard * SHARDS;
    this.#maps = Array.from({ length: SHARDS }, () => new Map<string, number>());
    this.#keys = new Array<string>(n).fill('');
    this.#hands = new Uint32Array(SHARDS);
    this.#used = new Uint32Array(SHARDS);
    this.#tokens = new Float64Array(n);
    this.#last = new Float64Array(n);
    this.#ref = new Uint8Array(n);
    this.#pending = new Uint32Array(n);
    this.#window = new Float64Array(n);
    this.#pushed = new Float64Array(n);
    this.#applied = new Float64Array(n);
    this.#dirtyMark = new Uint8Array(n);
    this.#echo = new Uint8Array(n);
    this.setLimit(options.limit);
  }

  /** Most keys the table holds (maxKeys rounded up to a whole number per shard). */
  get capacity(): number {
    return this.#perShard * SHARDS;
  }

  /** Keys held now. */
  get size(): number {
    return this.#size;
  }

  /** New rate and burst (a reload): buckets keep their tokens, capped at the new burst. */
  setLimit(limit: BucketLimit): void {
    this.#ratePerSec = limit.ratePerSec;
    this.#ratePerMs = limit.ratePerSec / 1000;
    this.#burst = limit.burst;
  }

  /** Take a token if `key` has one: 0 when taken, else whole seconds until it has one. */
  take(key: string): number {
    const slot = this.#slot(key, true);
    const tokens = this.#refill(slot);
    if (tokens >= 1) {
      this.#tokens[slot] = tokens - 1;
      this.#spent(slot);
      return 0;
    }
    return this.#secondsUntilOne(tokens);
  }

  /** Whole seconds until `key` has a token; 0 when it has one now (or is not known). */
  wait(key: string): number {
    const slot = this.#slot(key, false);
    if (slot < 0) return 0;
    const tokens = this.#refill(slot);
    return tokens >= 1 ? 0 : this.#secondsUntilOne(tokens);
  }

  /** Spend a token whether or not there is one (an event that already happened); floors at 0. */
  spend(key: string): void {
    const slot = this.#slot(key, true);
    this.#tokens[slot] = Math.max(0, this.#refill(slot) - 1);
    this.#spent(slot);
  }

  /** Tokens `key` holds now (tests, diagnostics); `burst` when not known. */
  tokens(key: string): number {
    const slot = this.#slot(key, false);
    return slot < 0 ? this.#burst : this.#refill(slot);
  }

  /**
   * Take out up to `max` keys' unpushed spends, counted as pushed in sync window `window` (a
   * window change starts the key's counts again). Give them back with {@link undrain} if the push
   * fails, or hand the fleet's totals to {@link applyTotals}.
   *
   * A key under pressure (less than half its burst left), or that pushed spends in the last
   * ECHO_SYNCS syncs, stays in the list with nothing to push: pushing 0 reads the fleet's total, so
   * an instance whose client went on to another instance still learns what it spent there. Keys
   * far from their limit and quiet are not read again: the sync's cost follows the keys that matter.
   */
  drain(window: number, max: number): PendingSpends {
    const out: PendingSpends = { window, slots: [], keys: [], counts: [] };
    const dirty = this.#dirty;
    const watched: number[] = [];
    let i = 0;
    for (; i < dirty.length && out.slots.length < max; i++) {
      const slot = dirty[i]!;
      const count = this.#pending[slot]!;
      let echo = count > 0 ? ECHO_SYNCS : this.#echo[slot]!;
      const owed = count === 0 && echo > 0;
      if (owed) echo--;
      this.#echo[slot] = echo;
      const pressed = this.#refill(slot) * 2 < this.#burst;
      if (count === 0 && !pressed && !owed) {
        this.#dirtyMark[slot] = 0;
        continue;
      }
      this.#pending[slot] = 0;
      if (this.#window[slot] !== window) {
        this.#window[slot] = window;
        this.#pushed[slot] = 0;
        this.#applied[slot] = 0;
      }
      this.#pushed[slot]! += count;
      out.slots.push(slot);
      out.keys.push(this.#keys[slot]!);
      out.counts.push(count);
      if (pressed || echo > 0) watched.push(slot);
      else this.#dirtyMark[slot] = 0;
    }
    this.#dirty = i === dirty.length ? watched : dirty.slice(i).concat(watched);
    return out;
  }

  /** A push that failed: its spends were not counted by the fleet. */
  undrain(spends: PendingSpends): void {
    for (let i = 0; i < spends.slots.length; i++) {
      const slot = spends.slots[i]!;
      if (this.#keys[slot] !== spends.keys[i] || this.#window[slot] !== spends.window) continue;
      this.#pushed[slot] = Math.max(0, this.#pushed[slot]! - spends.counts[i]!);
    }
  }

  /**
   * The fleet's total spends of each drained key in its window (ours included): what the other
   * instances spent since the last look is taken out of the local bucket (never below 0). A key
   * forgotten or moved to another window since the drain is left alone.
   */
  applyTotals(spends: PendingSpends, totals: readonly number[]): void {
    for (let i = 0; i < spends.slots.length; i++) {
      const slot = spends.slots[i]!;
      const total = totals[i];
      if (total === undefined || !Number.isFinite(total)) continue;
      if (this.#keys[slot] !== spends.keys[i] || this.#window[slot] !== spends.window) continue;
      const others = total - this.#pushed[slot]!;
      const fresh = others - this.#applied[slot]!;
      if (fresh <= 0) continue;
      this.#applied[slot] = others;
      this.#tokens[slot] = Math.max(0, this.#refill(slot) - fresh);
    }
  }

  #spent(slot: number): void {
    this.#pending[slot]!++;
    if (this.#dirtyMark[slot] === 0) {
      this.#dirtyMark[slot] = 1;
      this.#dirty.push(slot);
    }
  }

  #refill(slot: number): number {
    const now = this.#now();
    const elapsed = now - this.#last[slot]!;
    let tokens = this.#tokens[slot]!;
    if (elapsed > 0) {
      tokens = Math.min(this.#burst, tokens + elapsed * this.#ratePerMs);
      this.#last[slot] = now;
    } else if (tokens > this.#burst) tokens = this.#burst;
    this.#tokens[slot] = tokens;
    return tokens;
  }

  #secondsUntilOne(tokens: number): number {
    return Math.max(1, Math.ceil((1 - tokens) / this.#ratePerSec));
  }

  /** The slot of `key`: found (marked used), else a new full bucket when `create`, else -1. */
  #slot(key: string, create: boolean): number {
    const shard = shardHash(key);
    const map = this.#maps[shard]!;
    const found = map.get(key);
    if (found !== undefined) {
      this.#ref[found] = 1;
      return found;
    }
    if (!create) return -1;
    const base = shard * this.#perShard;
    let slot: number;
    const used = this.#used[shard]!;
    if (used < this.#perShard) {
      slot = base + used;
      this.#used[shard] = used + 1;
      this.#size++;
    } else {
      slot = this.#evict(shard, base);
      map.delete(this.#keys[slot]!);
    }
    map.set(key, slot);
    this.#keys[slot] = key;
    this.#tokens[slot] = this.#burst;
    this.#last[slot] = this.#now();
    this.#ref[slot] = 0;
    this.#pending[slot] = 0;
    this.#window[slot] = -1;
    this.#pushed[slot] = 0;
    this.#applied[slot] = 0;
    return slot;
  }

  /** CLOCK: the first slot from the hand not touched since the hand last passed it. */
  #evict(shard: number, base: number): number {
    const per = this.#perShard;
    let hand = this.#hands[shard]!;
    for (;;) {
      const slot = base + hand;
      hand = hand + 1 === per ? 0 : hand + 1;
      if (this.#ref[slot] === 0) {
        this.#hands[shard] = hand;
        return slot;
      }
      this.#ref[slot] = 0;
    }
  }
}
