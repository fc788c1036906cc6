import { describe, expect, it } from 'vitest';
import { DEFAULTS, type RateLimitsConfig } from '../../../src/config/index.js';
import {
  RateLimits,
  SYNC_WINDOW_MS,
  type FleetCounters,
} from '../../../src/pipeline/rate-limits.js';

const config = (over: Partial<RateLimitsConfig> = {}): RateLimitsConfig => ({
  ...DEFAULTS.rateLimits,
  ...over,
});

function clock(start = 10 * SYNC_WINDOW_MS): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** A fleet store in memory, as Redis' INCRBY answers it. */
class MemoryFleet implements FleetCounters {
  readonly totals = new Map<string, number>();
  down = false;
  add(keys: readonly string[], counts: readonly number[], _ttlMs?: number): Promise<number[]> {
    if (this.down) return Promise.reject(new Error('connection refused'));
    return Promise.resolve(
      keys.map((key, i) => {
        const total = (this.totals.get(key) ?? 0) + counts[i]!;
        this.totals.set(key, total);
        return total;
      }),
    );
  }
}

describe('RateLimits', () => {
  it('defaults: 200 challenges at once per client, then 100 a second; other clients unaffected', () => {
    const c = clock();
    const limits = new RateLimits(config(), { now: c.now });
    for (let i = 0; i < 200; i++) expect(limits.challenge('1.1.1.1')).toBe(0);
    expect(limits.challenge('1.1.1.1')).toBe(1);
    expect(limits.challenge('2.2.2.2')).toBe(0);
    c.advance(10);
    expect(limits.challenge('1.1.1.1')).toBe(0);
  });

  it('client failures: 120 at once, then one every 0.5 s; the wait is whole seconds', () => {
    const c = clock();
    const limits = new RateLimits(config(), { now: c.now });
    for (let i = 0; i < 120; i++) {
      expect(limits.clientWait('1.1.1.1')).toBe(0);
      limits.clientFailed('1.1.1.1');
    }
    expect(limits.clientWait('1.1.1.1')).toBe(1);
    c.advance(500);
    expect(limits.clientWait('1.1.1.1')).toBe(0);
  });

  it('payer failures are per address, whatever its case', () => {
    const c = clock();
    const limits = new RateLimits(config({ failuresPerMinute: { perClient: 120, perPayer: 2 } }), {
      now: c.now,
    });
    limits.payerFailed('0xAbC0000000000000000000000000000000000001');
    limits.payerFailed('0xabc0000000000000000000000000000000000001');
    expect(limits.payerWait('0xABC0000000000000000000000000000000000001')).toBe(30);
    expect(limits.payerWait('0xabc0000000000000000000000000000000000002')).toBe(0);
  });

  it('off: nothing is refused and nothing is counted; a reload turns them on with what they held', () => {
    const c = clock();
    const limits = new RateLimits(
      config({ enabled: false, challengesPerSecond: { perClient: 1, burst: 1 } }),
      { now: c.now },
    );
    for (let i = 0; i < 10; i++) {
      expect(limits.challenge('a')).toBe(0);
      limits.clientFailed('a');
    }
    expect(limits.tracked('challenges')).toBe(0);
    expect(limits.tracked('client_failures')).toBe(0);
    limits.configure(config({ challengesPerSecond: { perClient: 1, burst: 1 } }));
    expect(limits.challenge('a')).toBe(0);
    expect(limits.challenge('a')).toBe(1);
  });

  it('logs at most one refusal a second per limit', () => {
    const c = clock();
    const limits = new RateLimits(config(), { now: c.now });
    expect(limits.shouldLog('challenges')).toBe(true);
    expect(limits.shouldLog('challenges')).toBe(false);
    expect(limits.shouldLog('payer_failures')).toBe(true);
    c.advance(1_000);
    expect(limits.shouldLog('challenges')).toBe(true);
  });
});

describe('RateLimits shared through a fleet store', () => {
  it('two instances meet the fleet-wide limit after one sync', async () => {
    const c = clock();
    const fleet = new MemoryFleet();
    const cfg = config({ challengesPerSecond: { perClient: 1, burst: 10 } });
    const a = new RateLimits(cfg, { now: c.now });
    const b = new RateLimits(cfg, { now: c.now });
    // The client spreads 6 + 6 over the two: each alone would let 10 through.
    for (let i = 0; i < 6; i++) {
      expect(a.challenge('9.9.9.9')).toBe(0);
      expect(b.challenge('9.9.9.9')).toBe(0);
    }
    await a.sync(fleet);
    await b.sync(fleet);
    // b saw a's 6 (a pushed first); a sees b's on its next push.
    expect(b.challenge('9.9.9.9')).toBeGreaterThan(0);
    expect(a.challenge('9.9.9.9')).toBe(0);
    await a.sync(fleet);
    expect(a.challenge('9.9.9.9')).toBeGreaterThan(0);
    expect([...fleet.totals.keys()]).toEqual([`challenges:${c.now() / SYNC_WINDOW_MS}:9.9.9.9`]);
  });

  it('store down: the push is dropped and each instance limits on its own counts (fail open)', async () => {
    const c = clock();
    const fleet = new MemoryFleet();
    fleet.down = true;
    const cfg = config({ failuresPerMinute: { perClient: 4, perPayer: 60 } });
    const a = new RateLimits(cfg, { now: c.now });
    const b = new RateLimits(cfg, { now: c.now });
    const results: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      a.clientFailed('7.7.7.7');
      b.clientFailed('7.7.7.7');
    }
    await a.sync(fleet, (ok) => results.push(ok));
    await b.sync(fleet, (ok) => results.push(ok));
    expect(results).toEqual([false, false]);
    expect(a.clientWait('7.7.7.7')).toBe(0);
    expect(b.clientWait('7.7.7.7')).toBe(0);
    // Back up: what was not pushed is not counted by the fleet; new spends are.
    fleet.down = false;
    a.clientFailed('7.7.7.7');
    await a.sync(fleet, (ok) => results.push(ok));
    expect(results.at(-1)).toBe(true);
    expect(a.clientWait('7.7.7.7')).toBeGreaterThan(0);
  });

  it('one sync at a time: a second call joins the first', async () => {
    const fleet = new MemoryFleet();
    let calls = 0;
    const slow: FleetCounters = {
      add: async (keys, counts, ttl) => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
        return fleet.add(keys, counts, ttl);
      },
    };
    const a = new RateLimits(config());
    a.challenge('x');
    await Promise.all([a.sync(slow), a.sync(slow)]);
    expect(calls).toBe(1);
  });
});
