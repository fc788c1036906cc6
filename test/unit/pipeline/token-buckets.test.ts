import { describe, expect, it } from 'vitest';
import { shardHash, TokenBuckets } from '../../../src/pipeline/token-buckets.js';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TokenBuckets', () => {
  it('lets a burst through, then one token per 1/rate seconds, with the wait in whole seconds', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 100, limit: { ratePerSec: 2, burst: 3 }, now: c.now });
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0]);
    // Empty: one token comes back in 0.5 s, announced as 1 whole second.
    expect(b.take('a')).toBe(1);
    c.advance(499);
    expect(b.take('a')).toBe(1);
    c.advance(1);
    expect(b.take('a')).toBe(0);
    expect(b.take('a')).toBe(1);
    // Another key has its own bucket.
    expect(b.take('b')).toBe(0);
  });

  it('refills no further than the burst', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 100, limit: { ratePerSec: 10, burst: 2 }, now: c.now });
    b.take('a');
    c.advance(3_600_000);
    expect(b.tokens('a')).toBe(2);
  });

  it('waits whole seconds at slow rates (one a minute)', () => {
    const c = clock();
    const b = new TokenBuckets({
      maxKeys: 10,
      limit: { ratePerSec: 1 / 60, burst: 1 },
      now: c.now,
    });
    b.spend('p');
    expect(b.wait('p')).toBe(60);
    c.advance(30_000);
    expect(b.wait('p')).toBe(30);
    c.advance(30_000);
    expect(b.wait('p')).toBe(0);
  });

  it('wait() creates nothing; spend() floors at 0 and counts even when empty', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 10, limit: { ratePerSec: 1, burst: 2 }, now: c.now });
    expect(b.wait('x')).toBe(0);
    expect(b.size).toBe(0);
    b.spend('x');
    b.spend('x');
    b.spend('x');
    expect(b.tokens('x')).toBe(0);
    expect(b.wait('x')).toBe(1);
    expect(b.size).toBe(1);
  });

  it('a new limit applies to held buckets, capped at the new burst', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 10, limit: { ratePerSec: 1, burst: 10 }, now: c.now });
    b.take('a');
    b.setLimit({ ratePerSec: 1, burst: 3 });
    expect(b.tokens('a')).toBe(3);
  });

  it('holds at most maxKeys keys under a million distinct ones, and forgets the least recently used first', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 6_400, limit: { ratePerSec: 1, burst: 5 }, now: c.now });
    // A key in steady use stays, whatever passes through.
    for (let i = 0; i < 5; i++) b.take('victim');
    for (let i = 0; i < 1_000_000; i++) {
      b.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (i % 1_000 === 0) b.wait('victim');
    }
    expect(b.size).toBe(b.capacity);
    expect(b.capacity).toBe(6_400);
    expect(b.wait('victim')).toBeGreaterThan(0);
    // An untouched key is forgotten: it starts again with a full bucket (fail open).
    expect(b.tokens('10.0.0.1')).toBe(5);
  });

  it('spreads IPv4, IPv6 /64 and payer keys over the shards', () => {
    const keys = [
      ...Array.from({ length: 640 }, (_, i) => `192.0.${i >> 8}.${i & 255}`),
      ...Array.from({ length: 640 }, (_, i) => `2001:db8:${i.toString(16)}:0::/64`),
      ...Array.from({ length: 640 }, (_, i) => `0x${i.toString(16).padStart(40, '0')}`),
    ];
    const perShard = new Map<number, number>();
    for (const k of keys) perShard.set(shardHash(k), (perShard.get(shardHash(k)) ?? 0) + 1);
    expect(perShard.size).toBe(64);
    // 30 a shard on average: none is starved or holds a pile.
    expect(Math.min(...perShard.values())).toBeGreaterThan(10);
    expect(Math.max(...perShard.values())).toBeLessThan(60);
  });
});

describe('TokenBuckets fleet sync', () => {
  it('drains each spend once, and takes what other instances spent out of the bucket', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 10, limit: { ratePerSec: 1, burst: 10 }, now: c.now });
    b.take('a');
    b.take('a');
    const first = b.drain(7, 100);
    expect(first.keys).toEqual(['a']);
    expect(first.counts).toEqual([2]);
    // Read again with nothing to push: the others' spends of the same moments arrive after ours.
    expect(b.drain(7, 100)).toMatchObject({ keys: ['a'], counts: [0] });
    // The fleet's total is 6: ours 2, the others' 4.
    b.applyTotals(first, [6]);
    expect(b.tokens('a')).toBe(4);
    // Next sync: we spent 1 more, the others 3 more (total 10): only the new 3 are taken.
    b.take('a');
    const second = b.drain(7, 100);
    b.applyTotals(second, [10]);
    expect(b.tokens('a')).toBe(0);
  });

  it('a key under pressure is read again with nothing to push; one far from its limit only twice after its push', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 10, limit: { ratePerSec: 1, burst: 10 }, now: c.now });
    for (let i = 0; i < 6; i++) b.take('hot');
    b.take('calm');
    b.applyTotals(b.drain(1, 100), [6, 1]);
    // Nothing spent here since: both are read (the push's echo), the pressed one learns the others' 3.
    const again = b.drain(1, 100);
    expect(again.keys).toEqual(['hot', 'calm']);
    expect(again.counts).toEqual([0, 0]);
    b.applyTotals(again, [9, 1]);
    expect(b.tokens('hot')).toBe(1);
    expect(b.drain(1, 100).keys).toEqual(['hot', 'calm']);
    // Two reads after its push, the calm key is no longer read; the pressed one still is.
    expect(b.drain(1, 100).keys).toEqual(['hot']);
  });

  it('a failed push is given back, so a later total is not read as the others', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 10, limit: { ratePerSec: 1, burst: 10 }, now: c.now });
    b.take('a');
    b.undrain(b.drain(1, 100));
    b.take('a');
    const next = b.drain(1, 100);
    expect(next.counts).toEqual([1]);
    // Redis saw only this push: total 1, none of it the others'.
    b.applyTotals(next, [1]);
    expect(b.tokens('a')).toBe(8);
  });

  it('a new window starts the counts again', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 10, limit: { ratePerSec: 1, burst: 10 }, now: c.now });
    b.take('a');
    b.applyTotals(b.drain(1, 100), [5]);
    expect(b.tokens('a')).toBe(5);
    b.take('a');
    b.applyTotals(b.drain(2, 100), [1]);
    expect(b.tokens('a')).toBe(4);
  });

  it('never touches a key forgotten since its drain', () => {
    const c = clock();
    const b = new TokenBuckets({ maxKeys: 1, limit: { ratePerSec: 1, burst: 10 }, now: c.now });
    b.take('a');
    const spends = b.drain(1, 100);
    for (let i = 0; i < 200; i++) b.take(`k${i}`);
    b.applyTotals(spends, [100]);
    expect(b.tokens('a')).toBe(10);
  });

  it('drains at most max keys per call, the rest next time', () => {
    const b = new TokenBuckets({ maxKeys: 640, limit: { ratePerSec: 1, burst: 10 } });
    for (let i = 0; i < 50; i++) b.take(`k${i}`);
    expect(b.drain(1, 20).keys).toHaveLength(20);
    // The other 30 pushed, and the first 20 read again (nothing to push).
    const next = b.drain(1, 100);
    expect(next.counts.filter((n) => n > 0)).toHaveLength(30);
    expect(next.keys).toHaveLength(50);
  });
});
