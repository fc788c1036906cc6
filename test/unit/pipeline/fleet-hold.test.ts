/**
 * The fleet-wide hold's two rules, against a fake shared guard and a fake book: a hold is taken
 * only through a guard that has one (a single process has nothing to ask), and what a request
 * served is let go only after the book has committed what the request wrote about it.
 */
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../../src/pipeline/context.js';
import type { Deps } from '../../../src/pipeline/deps.js';
import {
  holdAcrossFleet,
  releaseFleetHold,
  releaseWhenDurable,
} from '../../../src/pipeline/fleet-hold.js';

interface Fakes {
  readonly log: string[];
  readonly deps: Deps;
  flush(): void;
}

function fakes(options: {
  shared: boolean;
  book: 'none' | 'plain' | 'shared';
  answer?: string;
}): Fakes {
  const log: string[] = [];
  let flush: () => void = () => undefined;
  const replay = options.shared
    ? {
        hold: (key: string, expiresAtMs: number) => {
          log.push(`hold ${key} until ${expiresAtMs}`);
          return Promise.resolve(options.answer ?? 'held');
        },
        served: (key: string, whole?: boolean) => {
          log.push(`served ${key}${whole === true ? ' (whole)' : ''}`);
        },
      }
    : {};
  const ledger =
    options.book === 'none'
      ? undefined
      : options.book === 'plain'
        ? {}
        : {
            flushed: () =>
              new Promise<void>((resolve) => {
                log.push('flush asked');
                flush = () => {
                  log.push('flushed');
                  resolve();
                };
              }),
          };
  const deps = {
    replay,
    ledger,
    nowSec: () => 1_000,
    config: { replay: { marginSeconds: 120 } },
  } as unknown as Deps;
  return { log, deps, flush: () => flush() };
}

const ctxOf = (payment?: { state: string; key: string }): RequestContext =>
  ({
    fleetHeld: undefined,
    payment:
      payment === undefined ? undefined : { state: payment.state, facts: { key: payment.key } },
  }) as unknown as RequestContext;

describe('holdAcrossFleet', () => {
  it('holds at once, asking nothing, without a shared store', async () => {
    const f = fakes({ shared: false, book: 'plain' });
    const ctx = ctxOf();
    expect(await holdAcrossFleet(ctx, f.deps, 'k', 2_000)).toBe('held');
    expect(ctx.fleetHeld).toBeUndefined();
    expect(f.log).toEqual([]);
  });

  it('asks the shared store, bounding a forgotten record by validBefore plus the margin', async () => {
    const f = fakes({ shared: true, book: 'shared' });
    const ctx = ctxOf();
    expect(await holdAcrossFleet(ctx, f.deps, 'k', 2_000)).toBe('held');
    expect(ctx.fleetHeld).toBe('k');
    expect(f.log).toEqual([`hold k until ${(2_000 + 120) * 1000}`]);
  });

  it('remembers nothing when the record is busy or the store cannot answer', async () => {
    for (const answer of ['busy', 'unavailable']) {
      const f = fakes({ shared: true, book: 'shared', answer });
      const ctx = ctxOf();
      expect(await holdAcrossFleet(ctx, f.deps, 'k', 2_000)).toBe(answer);
      expect(ctx.fleetHeld).toBeUndefined();
    }
  });
});

describe('releaseWhenDurable', () => {
  it("lets go of the held record and the request's settled payment only once the book has flushed", async () => {
    const f = fakes({ shared: true, book: 'shared' });
    // Settled, its response not delivered whole: its retry may be owed one.
    const ctx = ctxOf({ state: 'settled', key: 'paid' });
    ctx.fleetHeld = 'held';
    releaseWhenDurable(ctx, f.deps, false);
    await Promise.resolve();
    expect(f.log).toEqual(['flush asked']);
    f.flush();
    await new Promise((r) => setImmediate(r));
    expect(f.log).toEqual(['flush asked', 'flushed', 'served held', 'served paid']);
  });

  it('tells the store at once that a response delivered whole owes nothing, without a flush', () => {
    const f = fakes({ shared: true, book: 'shared' });
    const ctx = ctxOf({ state: 'delivered', key: 'paid' });
    ctx.fleetHeld = 'held';
    releaseWhenDurable(ctx, f.deps, true);
    expect(f.log).toEqual(['served held (whole)', 'served paid (whole)']);
  });

  it('lets go at once with a book that has no flush (one process, its own book)', () => {
    const f = fakes({ shared: true, book: 'plain' });
    releaseWhenDurable(ctxOf({ state: 'settled', key: 'paid' }), f.deps, false);
    expect(f.log).toEqual(['served paid']);
  });

  it('lets go of nothing for a payment that was not settled, or without a shared store', () => {
    for (const state of ['released', 'declined', 'unknown', 'failed']) {
      const f = fakes({ shared: true, book: 'shared' });
      releaseWhenDurable(ctxOf({ state, key: 'k' }), f.deps, false);
      expect(f.log).toEqual([]);
    }
    const f = fakes({ shared: false, book: 'shared' });
    const ctx = ctxOf({ state: 'settled', key: 'k' });
    releaseWhenDurable(ctx, f.deps, false);
    expect(f.log).toEqual([]);
  });

  it('releaseFleetHold lets go at once of a hold that will not be served', () => {
    const f = fakes({ shared: true, book: 'shared' });
    const ctx = ctxOf();
    ctx.fleetHeld = 'credit';
    releaseFleetHold(ctx, f.deps);
    expect(f.log).toEqual(['served credit']);
    expect(ctx.fleetHeld).toBeUndefined();
    releaseWhenDurable(ctx, f.deps, false);
    expect(f.log).toEqual(['served credit']);
  });
});
