import { describe, expect, it } from 'vitest';
import { InMemoryReplayGuard } from '../../../src/verify/replay.js';

const T0 = 1_700_000_000_000;

function makeGuard(maxEntries = 100) {
  const clock = { now: T0 };
  const guard = new InMemoryReplayGuard({ maxEntries, now: () => clock.now });
  return { guard, clock };
}

describe('InMemoryReplayGuard', () => {
  it('claims a fresh key, then answers used to a second claim of the same key', async () => {
    const { guard } = makeGuard();
    expect(await guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({ kind: 'claimed' });
    expect(await guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({ kind: 'used' });
    expect(await guard.claim('k', () => 'd2', T0 + 60_000)).toEqual({ kind: 'used' });
    expect(guard.size()).toBe(1);
  });

  it('keeps different keys independent', async () => {
    const { guard } = makeGuard();
    expect((await guard.claim('a', () => 'd', T0 + 60_000)).kind).toBe('claimed');
    expect((await guard.claim('b', () => 'd', T0 + 60_000)).kind).toBe('claimed');
    expect(guard.size()).toBe(2);
  });

  it('lets a released key be claimed again', async () => {
    const { guard } = makeGuard();
    await guard.claim('k', () => 'd1', T0 + 60_000);
    await guard.release('k');
    expect(guard.size()).toBe(0);
    expect((await guard.claim('k', () => 'd1', T0 + 60_000)).kind).toBe('claimed');
  });

  it('resumes a pending key for the same digest and returns the known transaction', async () => {
    const { guard } = makeGuard();
    await guard.claim('k', () => 'd1', T0 + 60_000);
    await guard.markPending('k', '0xabc', 'd1');
    expect(await guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({
      kind: 'resumed',
      transaction: '0xabc',
    });
  });

  it('refuses a pending key to a different digest', async () => {
    const { guard } = makeGuard();
    await guard.claim('k', () => 'd1', T0 + 60_000);
    await guard.markPending('k', '0xabc', 'd1');
    expect(await guard.claim('k', () => 'd2', T0 + 60_000)).toEqual({ kind: 'used' });
    // The refusal did not consume the pending record: the right payload can still resume it.
    expect((await guard.claim('k', () => 'd1', T0 + 60_000)).kind).toBe('resumed');
  });

  it('lets only one of two concurrent resumes take over a pending key', async () => {
    const { guard } = makeGuard();
    await guard.claim('k', () => 'd1', T0 + 60_000);
    await guard.markPending('k', undefined, 'd1');
    const outcomes = await Promise.all([
      guard.claim('k', () => 'd1', T0 + 60_000),
      guard.claim('k', () => 'd1', T0 + 60_000),
    ]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['resumed', 'used']);
    expect(outcomes.find((o) => o.kind === 'resumed')).toEqual({
      kind: 'resumed',
      transaction: undefined,
    });
  });

  it('keeps the known transaction when a resumed claim goes pending without one', async () => {
    const { guard } = makeGuard();
    await guard.claim('k', () => 'd1', T0 + 60_000);
    await guard.markPending('k', '0xabc', 'd1');
    await guard.claim('k', () => 'd1', T0 + 60_000);
    await guard.markPending('k', undefined, 'd1');
    expect(await guard.claim('k', () => 'd1', T0 + 60_000)).toEqual({
      kind: 'resumed',
      transaction: '0xabc',
    });
  });

  it('answers used for a settled key until it expires, then lets it be claimed', async () => {
    const { guard, clock } = makeGuard();
    await guard.claim('k', () => 'd1', T0 + 60_000);
    await guard.markSettled('k', '0xabc');
    expect((await guard.claim('k', () => 'd1', T0 + 60_000)).kind).toBe('used');
    clock.now = T0 + 59_999;
    expect((await guard.claim('k', () => 'd1', T0 + 60_000)).kind).toBe('used');
    clock.now = T0 + 60_000;
    expect((await guard.claim('k', () => 'd1', T0 + 120_000)).kind).toBe('claimed');
  });

  it('holds a settled key to the next whole second of its expiry, never less', async () => {
    const { guard, clock } = makeGuard();
    await guard.claim('k', () => 'd1', T0 + 60_500);
    await guard.markSettled('k', '0xabc');
    clock.now = T0 + 60_499;
    expect((await guard.claim('k', () => 'd1', T0 + 120_000)).kind).toBe('used');
    clock.now = T0 + 60_999;
    expect((await guard.claim('k', () => 'd1', T0 + 120_000)).kind).toBe('used');
    clock.now = T0 + 61_000;
    expect((await guard.claim('k', () => 'd1', T0 + 120_000)).kind).toBe('claimed');
  });

  it('keeps settled keys through sweeps until they expire', async () => {
    const { guard, clock } = makeGuard();
    for (const k of ['a', 'b', 'c']) {
      await guard.claim(k, () => 'd', T0 + 10_000);
      await guard.markSettled(k, '0x1');
    }
    await guard.claim('late', () => 'd', T0 + 60_000);
    clock.now = T0 + 5_000;
    for (let i = 0; i < 5; i++) await guard.claim(`x${i}`, () => 'd', T0 + 60_000);
    expect((await guard.claim('b', () => 'd', T0 + 60_000)).kind).toBe('used');
    clock.now = T0 + 10_000;
    for (let i = 0; i < 5; i++) await guard.claim(`y${i}`, () => 'd', T0 + 60_000);
    expect(guard.size()).toBe(1 + 5 + 5); // 'late' and the x and y claims; a, b, c swept
    expect((await guard.claim('b', () => 'd', T0 + 60_000)).kind).toBe('claimed');
  });

  it('keeps a pending key until its expiry, then treats it as absent', async () => {
    const { guard, clock } = makeGuard();
    await guard.claim('k', () => 'd1', T0 + 60_000);
    await guard.markPending('k', '0xabc', 'd1');
    clock.now = T0 + 60_000;
    expect((await guard.claim('k', () => 'd2', T0 + 120_000)).kind).toBe('claimed');
  });

  it('lets an abandoned in-flight claim be claimed again after its expiry', async () => {
    const { guard, clock } = makeGuard();
    await guard.claim('k', () => 'd1', T0 + 1_000);
    clock.now = T0 + 999;
    expect((await guard.claim('k', () => 'd1', T0 + 1_000)).kind).toBe('used');
    clock.now = T0 + 1_000;
    expect((await guard.claim('k', () => 'd1', T0 + 2_000)).kind).toBe('claimed');
  });

  it('hashes the payload only when its key is pending', async () => {
    const { guard } = makeGuard();
    let calls = 0;
    const digest = (): string => {
      calls++;
      return 'd1';
    };
    await guard.claim('k', digest, T0 + 60_000); // fresh
    await guard.claim('k', digest, T0 + 60_000); // in flight: used
    expect(calls).toBe(0);
    await guard.markPending('k', '0xabc', 'd1');
    expect((await guard.claim('k', digest, T0 + 60_000)).kind).toBe('resumed');
    expect(calls).toBe(1);
  });

  it('gives exactly one claimed among many concurrent claims of one key', async () => {
    const { guard } = makeGuard();
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => guard.claim('k', () => `d${i % 2}`, T0 + 60_000)),
    );
    expect(outcomes.filter((o) => o.kind === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'used')).toHaveLength(49);
  });

  it('refuses new claims with unavailable when the store is full of live records', async () => {
    const { guard } = makeGuard(3);
    for (const k of ['a', 'b', 'c']) {
      expect((await guard.claim(k, () => 'd', T0 + 60_000)).kind).toBe('claimed');
    }
    expect(await guard.claim('d', () => 'd', T0 + 60_000)).toEqual({ kind: 'unavailable' });
    // Held keys still answer used, not unavailable.
    expect((await guard.claim('a', () => 'd', T0 + 60_000)).kind).toBe('used');
    expect(guard.size()).toBe(3);
  });

  it('makes room in a full store by pruning expired records', async () => {
    const { guard, clock } = makeGuard(3);
    await guard.claim('a', () => 'd', T0 + 1_000);
    await guard.claim('b', () => 'd', T0 + 60_000);
    await guard.claim('c', () => 'd', T0 + 1_000);
    expect((await guard.claim('d', () => 'd', T0 + 60_000)).kind).toBe('unavailable');
    clock.now = T0 + 1_000;
    expect((await guard.claim('d', () => 'd', T0 + 60_000)).kind).toBe('claimed');
    expect(guard.size()).toBe(2);
  });

  it('sweeps expired records a few at a time as claims arrive', async () => {
    const { guard, clock } = makeGuard(1_000);
    for (let i = 0; i < 100; i++) await guard.claim(`old${i}`, () => 'd', T0 + 1_000);
    expect(guard.size()).toBe(100);
    clock.now = T0 + 2_000;
    for (let i = 0; i < 30; i++) await guard.claim(`new${i}`, () => 'd', T0 + 60_000);
    // 30 claims examine 120 records: all 100 expired ones are gone, the 30 live ones stay.
    expect(guard.size()).toBe(30);
  });

  it('ignores markPending and markSettled for a key it does not hold', async () => {
    const { guard } = makeGuard();
    await guard.markPending('x', '0x1', 'd');
    await guard.markSettled('y', '0x2');
    expect(guard.size()).toBe(0);
    expect((await guard.claim('x', () => 'd', T0 + 60_000)).kind).toBe('claimed');
  });

  it('rejects a maxEntries that is not a positive integer', () => {
    expect(() => new InMemoryReplayGuard({ maxEntries: 0 })).toThrow(RangeError);
  });
});
