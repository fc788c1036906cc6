import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ShardedMap, shardOf } from '../../../src/verify/sharded-map.js';

const hexKey = (): string => `84532:0xasset:0xfrom:0x${randomBytes(32).toString('hex')}`;

/** A deterministic stream of pseudo-random numbers, so a failure replays. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('ShardedMap', () => {
  it('behaves as one Map under a random mix of set, get and delete', () => {
    const random = lcg(7);
    const keys = [...Array.from({ length: 300 }, hexKey), 'k', 'a', '', 'old1', 'NONHEX!', '0xAB'];
    const sharded = new ShardedMap<number>();
    const plain = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = keys[Math.floor(random() * keys.length)]!;
      const op = random();
      if (op < 0.5) {
        sharded.set(key, i);
        plain.set(key, i);
      } else if (op < 0.8) {
        expect(sharded.delete(key)).toBe(plain.delete(key));
      } else {
        expect(sharded.get(key)).toBe(plain.get(key));
      }
      expect(sharded.size).toBe(plain.size);
    }
    const walked = new Map<string, number>();
    const cursor = sharded.cursor();
    for (let entry = cursor.next(); entry !== undefined; entry = cursor.next())
      walked.set(entry[0], entry[1]);
    expect(walked).toEqual(plain);
  });

  it('walks every entry exactly once, and keeps walking while entries are deleted', () => {
    const map = new ShardedMap<number>();
    const keys = Array.from({ length: 2_000 }, hexKey);
    keys.forEach((k, i) => map.set(k, i));
    const seen: string[] = [];
    const cursor = map.cursor();
    for (let entry = cursor.next(); entry !== undefined; entry = cursor.next()) {
      seen.push(entry[0]);
      if (entry[1] % 2 === 0) map.delete(entry[0]); // what the sweep does
    }
    expect(seen).toHaveLength(2_000);
    expect(new Set(seen)).toEqual(new Set(keys));
    expect(map.size).toBe(1_000);
    expect(cursor.next()).toBeUndefined();
  });

  it('spreads replay keys over all 256 shards by their last byte', () => {
    expect(shardOf('…:0x00')).toBe(0);
    expect(shardOf('…:0xff')).toBe(255);
    expect(shardOf('…:0xFF')).toBe(255);
    expect(shardOf('…:0x9a')).toBe(0x9a);
    const used = new Set(Array.from({ length: 5_000 }, () => shardOf(hexKey())));
    expect(used.size).toBe(256);
    // Any string has a shard in range.
    for (const key of ['', 'k', 'zz', '\u{1F600}', 'ÿÿ']) {
      expect(shardOf(key)).toBeGreaterThanOrEqual(0);
      expect(shardOf(key)).toBeLessThan(256);
    }
  });
});
