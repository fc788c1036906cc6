import { describe, expect, it } from 'vitest';
import { FailureTrigger, FailureWindow } from '../../../src/verify/failure-window.js';

const T0 = 1_700_000_000_000;

function trigger(over: Partial<ConstructorParameters<typeof FailureTrigger>[0]> = {}) {
  const clock = { now: T0 };
  const t = new FailureTrigger({
    failureRatio: 0.5,
    windowMs: 60_000,
    minVerdicts: 10,
    maxClients: 100,
    now: () => clock.now,
    ...over,
  });
  return { t, clock };
}

const record = (t: FailureTrigger, client: string, ok: number, failed: number): void => {
  for (let i = 0; i < ok; i++) t.record(client, false);
  for (let i = 0; i < failed; i++) t.record(client, true);
};

describe('FailureWindow', () => {
  it('counts verdicts inside the window and forgets them once it has slid past', () => {
    const w = new FailureWindow(10_000);
    w.record(T0, true);
    w.record(T0 + 4_000, false);
    expect(w.counts(T0 + 5_000)).toEqual({ verdicts: 2, failures: 1 });
    // T0's bucket leaves the window 10 s later; T0 + 4 s's 4 s after that.
    expect(w.counts(T0 + 10_999)).toEqual({ verdicts: 1, failures: 0 });
    expect(w.counts(T0 + 15_000)).toEqual({ verdicts: 0, failures: 0 });
  });

  it('reuses a slot for a later bucket without carrying the old counts', () => {
    const w = new FailureWindow(10_000);
    for (let i = 0; i < 5; i++) w.record(T0, true);
    w.record(T0 + 10_000, false); // same slot, one window later
    expect(w.counts(T0 + 10_000)).toEqual({ verdicts: 1, failures: 0 });
  });
});

describe('FailureTrigger', () => {
  it('is armed while failures are above the ratio, once the window holds minVerdicts', () => {
    const { t } = trigger();
    record(t, 'a', 0, 9);
    expect(t.armed('a')).toBe(false); // 9 < minVerdicts
    record(t, 'a', 0, 1);
    expect(t.armed('a')).toBe(true);
    record(t, 'a', 10, 0); // 10 of 20: not above 0.5
    expect(t.armed('a')).toBe(false);
    record(t, 'a', 0, 1); // 11 of 21
    expect(t.armed('a')).toBe(true);
  });

  it('an honest steady state never arms it', () => {
    const { t, clock } = trigger();
    for (let i = 0; i < 1_000; i++) {
      t.record(`c${i % 7}`, i % 10 === 0); // 10 % failures
      clock.now += 50;
      expect(t.armed(`c${i % 7}`)).toBe(false);
    }
  });

  it("arms for one client's failures while the gateway-wide ratio stays low", () => {
    const { t } = trigger();
    record(t, 'honest', 200, 0);
    record(t, 'forger', 0, 20);
    expect(t.armed('forger')).toBe(true);
    expect(t.armed('honest')).toBe(false);
    expect(t.armed('newcomer')).toBe(false);
  });

  it('arms for everyone while the gateway-wide ratio is high (forgeries from many addresses)', () => {
    const { t } = trigger();
    for (let i = 0; i < 40; i++) t.record(`forger${i}`, true); // one each: no client window counts
    record(t, 'honest', 5, 0);
    expect(t.armed('honest')).toBe(true);
    expect(t.armed('newcomer')).toBe(true);
  });

  it('disarms once the failures have slid out of the window', () => {
    const { t, clock } = trigger();
    record(t, 'a', 0, 30);
    expect(t.armed('a')).toBe(true);
    clock.now += 60_000;
    expect(t.armed('a')).toBe(false);
  });

  it('keeps at most maxClients client windows', () => {
    const { t } = trigger({ maxClients: 2, minVerdicts: 1, failureRatio: 0.99 });
    t.record('a', true);
    t.record('b', false);
    t.record('c', false); // evicts a, the least recently seen
    // The gateway-wide window (1 of 3) is under 0.99; only a's own window armed it.
    expect(t.armed('a')).toBe(false);
  });
});
