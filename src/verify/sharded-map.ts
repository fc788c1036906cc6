/**
 * A string-keyed map split into 256 V8 Maps, for the replay guard's records (up to a million).
 *
 * Why: a V8 Map doubles its table when it fills, and the doubling copies every entry in one go.
 * With replay keys that stalled the event loop for 2 ms at 65k records, 17 ms at 524k and 49 ms at
 * 1M, and every request in flight waited through it. Split 256 ways, each table is 1/256 of that
 * size, so its doubling is too; the shards fill at about the same pace, so their doublings come
 * close together but one at a time, between requests.
 *
 * A key's shard is read from its last two characters as hex digits: for a replay key, the nonce's
 * last byte, which the payer chose at random. Any string works as a key; keys that do not end in
 * hex only spread less evenly (a payer choosing nonces to share one shard gets one plain Map).
 */

const SHARD_BITS = 8;
const SHARDS = 1 << SHARD_BITS;

/** 0–15 for the code units of 0-9, a-f and A-F; something in 0–31 for any other. */
function hexValue(code: number): number {
  return (code & 15) + ((code >> 6) & 1) * 9;
}

/** The shard of `key`: its last two characters read as hex digits (0–255). */
export function shardOf(key: string): number {
  const n = key.length;
  // charCodeAt past either end is NaN, and NaN & 15 is 0: short keys land in low shards.
  return ((hexValue(key.charCodeAt(n - 2)) << 4) | hexValue(key.charCodeAt(n - 1))) & (SHARDS - 1);
}

export class ShardedMap<V> {
  readonly #shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map<string, V>());
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: string): V | undefined {
    return this.#shards[shardOf(key)]!.get(key);
  }

  set(key: string, value: V): void {
    const shard = this.#shards[shardOf(key)]!;
    const before = shard.size;
    shard.set(key, value);
    this.#size += shard.size - before;
  }

  delete(key: string): boolean {
    if (!this.#shards[shardOf(key)]!.delete(key)) return false;
    this.#size--;
    return true;
  }

  /** A walk over every entry, shard after shard (deleting entries while walking is allowed). */
  cursor(): ShardedMapCursor<V> {
    return new ShardedMapCursor(this.#shards);
  }
}

export class ShardedMapCursor<V> {
  #next = 0;
  #entries: MapIterator<[string, V]> | undefined = undefined;

  constructor(private readonly shards: readonly Map<string, V>[]) {}

  /** The next entry, or `undefined` once the walk has passed every shard. */
  next(): [string, V] | undefined {
    for (;;) {
      if (this.#entries === undefined) {
        if (this.#next === this.shards.length) return undefined;
        const shard = this.shards[this.#next++]!;
        if (shard.size === 0) continue;
        this.#entries = shard.entries();
      }
      const step = this.#entries.next();
      if (step.done !== true) return step.value;
      this.#entries = undefined;
    }
  }
}
