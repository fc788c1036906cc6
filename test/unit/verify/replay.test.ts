import { describe, expect, it } from 'vitest';
import { InMemoryReplayGuard } from '../../../src/verify/replay.js';

const T0 = 1_700_000_000_000;

function makeGuard(maxEntries = 100) {
  const clock = { now: T0 };
  const guard = new InMemoryReplayGuard({ maxEntries, now: () => clock.now });
  return { guard, clock };
}

describe('InMemoryReplayGuard', () => {
  it('claims a fresh key, then answers used to a second claim of the same key', () => {
    const { guard } = makeGuard();
    expect(guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({ kind: 'claimed' });
    expect(guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({ kind: 'used' });
    expect(guard.claim('k', () => 'd2', T0 + 60_000)).toEqual({ kind: 'used' });
    expect(guard.size()).toBe(1);
  });

  it('keeps different keys independent', () => {
    const { guard } = makeGuard();
    expect(guard.claim('a', () => 'd', T0 + 60_000).kind).toBe('claimed');
    expect(guard.claim('b', () => 'd', T0 + 60_000).kind).toBe('claimed');
    expect(guard.size()).toBe(2);
  });

  it('lets a released key be claimed again', () => {
    const { guard } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 60_000);
    guard.release('k');
    expect(guard.size()).toBe(0);
    expect(guard.claim('k', () => 'd1', T0 + 60_000).kind).toBe('claimed');
  });

  it('resumes a pending key for the same digest and returns the known transaction', () => {
    const { guard } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 60_000);
    guard.markPending('k', '0xabc', 'd1');
    expect(guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({
      kind: 'resumed',
      transaction: '0xabc',
    });
  });

  it('refuses a pending key to a different digest', () => {
    const { guard } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 60_000);
    guard.markPending('k', '0xabc', 'd1');
    expect(guard.claim('k', () => 'd2', T0 + 60_000)).toEqual({ kind: 'used' });
    // The refusal did not consume the pending record: the right payload can still resume it.
    expect(guard.claim('k', () => 'd1', T0 + 60_000).kind).toBe('resumed');
  });

  it('lets only one of two back-to-back resumes take over a pending key', () => {
    const { guard } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 60_000);
    guard.markPending('k', undefined, 'd1');
    const outcomes = [
      guard.claim('k', () => 'd1', T0 + 60_000),
      guard.claim('k', () => 'd1', T0 + 60_000),
    ];
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['resumed', 'used']);
    expect(outcomes.find((o) => o.kind === 'resumed')).toEqual({
      kind: 'resumed',
      transaction: undefined,
    });
  });

  it('keeps the known transaction when a resumed claim goes pending without one', () => {
    const { guard } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 60_000);
    guard.markPending('k', '0xabc', 'd1');
    guard.claim('k', () => 'd1', T0 + 60_000);
    guard.markPending('k', undefined, 'd1');
    expect(guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({
      kind: 'resumed',
      transaction: '0xabc',
    });
  });

  it('answers used for a settled key until it expires, then lets it be claimed', () => {
    const { guard, clock } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 60_000);
    guard.markSettled('k', '0xabc');
    expect(guard.claim('k', () => 'd1', T0 + 60_000).kind).toBe('used');
    clock.now = T0 + 59_999;
    expect(guard.claim('k', () => 'd1', T0 + 60_000).kind).toBe('used');
    clock.now = T0 + 60_000;
    expect(guard.claim('k', () => 'd1', T0 + 120_000).kind).toBe('claimed');
  });

  it('holds a settled key to the next whole second of its expiry, never less', () => {
    const { guard, clock } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 60_500);
    guard.markSettled('k', '0xabc');
    clock.now = T0 + 60_499;
    expect(guard.claim('k', () => 'd1', T0 + 120_000).kind).toBe('used');
    clock.now = T0 + 60_999;
    expect(guard.claim('k', () => 'd1', T0 + 120_000).kind).toBe('used');
    clock.now = T0 + 61_000;
    expect(guard.claim('k', () => 'd1', T0 + 120_000).kind).toBe('claimed');
  });

  it('keeps settled keys through sweeps until they expire', () => {
    const { guard, clock } = makeGuard();
    for (const k of ['a', 'b', 'c']) {
      guard.claim(k, () => 'd', T0 + 10_000);
      guard.markSettled(k, '0x1');
    }
    guard.claim('late', () => 'd', T0 + 60_000);
    clock.now = T0 + 5_000;
    for (let i = 0; i < 5; i++) guard.claim(`x${i}`, () => 'd', T0 + 60_000);
    expect(guard.claim('b', () => 'd', T0 + 60_000).kind).toBe('used');
    clock.now = T0 + 10_000;
    for (let i = 0; i < 5; i++) guard.claim(`y${i}`, () => 'd', T0 + 60_000);
    expect(guard.size()).toBe(1 + 5 + 5); // 'late' and the x and y claims; a, b, c swept
    expect(guard.claim('b', () => 'd', T0 + 60_000).kind).toBe('claimed');
  });

  it('puts a settled key back to pending when told its settlement is in doubt, resumable by its payload', () => {
    const { guard } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 60_000);
    guard.markSettled('k', '0xabc');
    guard.markPending('k', '0xabc', 'd1');
    expect(guard.size()).toBe(1);
    expect(guard.claim('k', () => 'd2', T0 + 60_000)).toEqual({ kind: 'used' });
    expect(guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({
      kind: 'resumed',
      transaction: '0xabc',
    });
  });

  it('answers the claim synchronously, with no promise to await', () => {
    const { guard } = makeGuard();
    expect(guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({ kind: 'claimed' });
    expect(guard.markSettled('k', '0xabc')).toBeUndefined();
    expect(guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({ kind: 'used' });
  });

  it('makes room in a full store by pruning expired settled and open records alike', () => {
    const { guard, clock } = makeGuard(4);
    for (const k of ['s1', 's2']) {
      guard.claim(k, () => 'd', T0 + 1_000);
      guard.markSettled(k, '0x1');
    }
    guard.claim('open', () => 'd', T0 + 1_000);
    guard.claim('live', () => 'd', T0 + 60_000);
    expect(guard.claim('new', () => 'd', T0 + 60_000).kind).toBe('unavailable');
    clock.now = T0 + 1_000;
    expect(guard.claim('new', () => 'd', T0 + 60_000).kind).toBe('claimed');
    expect(guard.size()).toBe(2); // 'live' and 'new'
    expect(guard.claim('s1', () => 'd', T0 + 60_000).kind).toBe('claimed');
  });

  it('keeps a pending key until its expiry, then treats it as absent', () => {
    const { guard, clock } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 60_000);
    guard.markPending('k', '0xabc', 'd1');
    clock.now = T0 + 60_000;
    expect(guard.claim('k', () => 'd2', T0 + 120_000).kind).toBe('claimed');
  });

  it('lets an abandoned in-flight claim be claimed again after its expiry', () => {
    const { guard, clock } = makeGuard();
    guard.claim('k', () => 'd1', T0 + 1_000);
    clock.now = T0 + 999;
    expect(guard.claim('k', () => 'd1', T0 + 1_000).kind).toBe('used');
    clock.now = T0 + 1_000;
    expect(guard.claim('k', () => 'd1', T0 + 2_000).kind).toBe('claimed');
  });

  it('hashes the payload only when its key is pending', () => {
    const { guard } = makeGuard();
    let calls = 0;
    const digest = (): string => {
      calls++;
      return 'd1';
    };
    guard.claim('k', digest, T0 + 60_000); // fresh
    guard.claim('k', digest, T0 + 60_000); // in flight: used
    expect(calls).toBe(0);
    guard.markPending('k', '0xabc', 'd1');
    expect(guard.claim('k', digest, T0 + 60_000).kind).toBe('resumed');
    expect(calls).toBe(1);
  });

  it('gives exactly one claimed among many back-to-back claims of one key', () => {
    const { guard } = makeGuard();
    const outcomes = Array.from({ length: 50 }, (_, i) =>
      guard.claim('k', () => `d${i % 2}`, T0 + 60_000),
    );
    expect(outcomes.filter((o) => o.kind === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'used')).toHaveLength(49);
  });

  it('refuses new claims with unavailable when the store is full of live records', () => {
    const { guard } = makeGuard(3);
    for (const k of ['a', 'b', 'c']) {
      expect(guard.claim(k, () => 'd', T0 + 60_000).kind).toBe('claimed');
    }
    expect(guard.claim('d', () => 'd', T0 + 60_000)).toEqual({ kind: 'unavailable' });
    // Held keys still answer used, not unavailable.
    expect(guard.claim('a', () => 'd', T0 + 60_000).kind).toBe('used');
    expect(guard.size()).toBe(3);
  });

  it('makes room in a full store by pruning expired records', () => {
    const { guard, clock } = makeGuard(3);
    guard.claim('a', () => 'd', T0 + 1_000);
    guard.claim('b', () => 'd', T0 + 60_000);
    guard.claim('c', () => 'd', T0 + 1_000);
    expect(guard.claim('d', () => 'd', T0 + 60_000).kind).toBe('unavailable');
    clock.now = T0 + 1_000;
    expect(guard.claim('d', () => 'd', T0 + 60_000).kind).toBe('claimed');
    expect(guard.size()).toBe(2);
  });

  it('sweeps expired records a few at a time as claims arrive', () => {
    const { guard, clock } = makeGuard(1_000);
    for (let i = 0; i < 100; i++) guard.claim(`old${i}`, () => 'd', T0 + 1_000);
    expect(guard.size()).toBe(100);
    clock.now = T0 + 2_000;
    for (let i = 0; i < 30; i++) guard.claim(`new${i}`, () => 'd', T0 + 60_000);
    // 30 claims examine 120 records: all 100 expired ones are gone, the 30 live ones stay.
    expect(guard.size()).toBe(30);
  });

  it('sweeps expired settled payments from every shard of its map', () => {
    const { guard, clock } = makeGuard(10_000);
    const hexKey = (i: number): string =>
      `84532:0xasset:0xfrom:0x${i.toString(16).padStart(64, '0')}`;
    for (let i = 0; i < 1_000; i++) {
      guard.claim(hexKey(i), () => 'd', T0 + 1_000);
      guard.markSettled(hexKey(i), '0x1');
    }
    expect(guard.claim(hexKey(999), () => 'd', T0 + 1_000).kind).toBe('used');
    clock.now = T0 + 2_000;
    // 1,000 expired records, 4 examined per claim: 300 claims sweep them all.
    for (let i = 0; i < 300; i++) guard.claim(hexKey(100_000 + i), () => 'd', T0 + 60_000);
    expect(guard.size()).toBe(300);
    expect(guard.claim(hexKey(999), () => 'd', T0 + 60_000).kind).toBe('claimed');
  });

  it('ignores markPending and markSettled for a key it does not hold', () => {
    const { guard } = makeGuard();
    guard.markPending('x', '0x1', 'd');
    guard.markSettled('y', '0x2');
    expect(guard.size()).toBe(0);
    expect(guard.claim('x', () => 'd', T0 + 60_000).kind).toBe('claimed');
  });

  it('rejects a maxEntries that is not a positive integer', () => {
    expect(() => new InMemoryReplayGuard({ maxEntries: 0 })).toThrow(RangeError);
  });
});
