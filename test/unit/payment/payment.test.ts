/**
 * The payment's state machine, against the real in-memory replay guard and verify cache: every
 * legal move, every illegal one refused, and what each end leaves in the stores (what a retry with
 * the same signature then meets). No sockets. The moves are generated from TRANSITIONS (every
 * state × every call), and every exit path is run against the in-memory book too (what the record
 * says after it). Crashes between the steps: payment.crash-points.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  LedgerUnavailableError,
  type LedgerState,
  type LedgerStore,
} from '../../../src/ledger/index.js';
import {
  IllegalTransitionError,
  Payment,
  TRANSITIONS,
  type PaymentState,
} from '../../../src/payment/payment.js';
import { LruVerifyCache } from '../../../src/verify/cache.js';
import { InMemoryReplayGuard } from '../../../src/verify/replay.js';
import { MemoryLedger } from '../../helpers/memory-ledger.js';
import {
  PAYMENT_DIGEST as DIGEST,
  PAYMENT_FACTS as FACTS,
  PAYMENT_KEY as KEY,
} from '../../helpers/payment-facts.js';

const TX = `0x${'ab'.repeat(32)}`;
const VALID = { isValid: true, payer: '0xfrom' } as const;
const INVALID = { isValid: false, invalidReason: 'invalid_exact_evm_payload_signature' } as const;

/**
 * A claimed payment on fresh stores (resumed: after an earlier settlement went pending). `wrap`
 * sees each store before the payment does (to watch what it touches).
 */
function claimed(
  resumed = false,
  ledger: LedgerStore | undefined = undefined,
  wrap: <T extends object>(store: T) => T = (store) => store,
) {
  const replay = wrap(new InMemoryReplayGuard({ maxEntries: 100 }));
  const verifyCache = wrap(new LruVerifyCache({ maxEntries: 100, negativeTtlMs: 60_000 }));
  const expiresAtMs = Date.now() + 600_000;
  if (resumed) {
    expect(replay.claim(KEY, () => DIGEST, expiresAtMs)).toEqual({ kind: 'claimed' });
    replay.markPending(KEY, TX, DIGEST);
  }
  const outcome = replay.claim(KEY, () => DIGEST, expiresAtMs);
  expect(outcome.kind).toBe(resumed ? 'resumed' : 'claimed');
  const payment = new Payment(
    { replay, verifyCache, ledger: ledger === undefined ? undefined : wrap(ledger) },
    {
      key: KEY,
      digestOf: () => DIGEST,
      holdUntilSec: Math.floor(Date.now() / 1000) + 300,
      resumed,
      priorTransaction: resumed ? TX : undefined,
      recordOf: () => FACTS,
    },
  );
  /** What a retry with the same signature meets now. */
  const retry = () => replay.claim(KEY, () => DIGEST, expiresAtMs);
  return { payment, replay, verifyCache, retry };
}

/** Drive a fresh payment to `state` along the legal path. */
async function at(state: 'claimed' | 'verified' | 'forwarded' | 'settling') {
  const s = claimed();
  if (state === 'claimed') return s;
  s.payment.recordVerdict(VALID);
  if (state === 'verified') return s;
  s.payment.forwarded();
  if (state === 'forwarded') return s;
  await s.payment.settling();
  return s;
}

describe('Payment: the path of a paid request', () => {
  it('claimed → verified → forwarded → settling → settled: spent, a retry is refused as used', async () => {
    const { payment, retry, verifyCache } = await at('settling');
    await payment.end('settled', TX);
    expect(payment.state).toBe('settled');
    expect(payment.decided).toBe(true);
    expect(retry()).toEqual({ kind: 'used' });
    expect(verifyCache.get(KEY, () => DIGEST)).toBeUndefined();
  });

  it.each(['claimed', 'verified', 'forwarded'] as const)(
    'released from %s: nothing moved, the retry claims afresh and meets the cached verdict',
    async (from) => {
      const { payment, retry, verifyCache } = await at(from);
      if (from === 'claimed') payment.recordVerdict(INVALID);
      await payment.release();
      expect(payment.state).toBe('released');
      expect(retry()).toEqual({ kind: 'claimed' });
      expect(verifyCache.get(KEY, () => DIGEST)).toEqual(from === 'claimed' ? INVALID : VALID);
    },
  );

  it('declined after settling: released for a retry, but the earlier "valid" is not cached', async () => {
    const { payment, retry, verifyCache } = await at('settling');
    await payment.end('declined');
    expect(payment.state).toBe('declined');
    expect(retry()).toEqual({ kind: 'claimed' });
    expect(verifyCache.get(KEY, () => DIGEST)).toBeUndefined();
  });

  it('unknown after settling: kept pending with the hash; the same payload resumes it', async () => {
    const { payment, retry } = await at('settling');
    await payment.end('unknown', TX);
    expect(payment.state).toBe('unknown');
    expect(retry()).toEqual({ kind: 'resumed', transaction: TX });
  });

  it('failed after settling (proven on chain): spent, a retry is refused as used', async () => {
    const { payment, retry } = await at('settling');
    await payment.end('failed');
    expect(payment.state).toBe('failed');
    expect(retry()).toEqual({ kind: 'used' });
  });
});

describe('Payment: delivery', () => {
  it('a settled payment whose response went out whole is delivered: decided and ended', async () => {
    const { payment, retry } = await at('settling');
    await payment.end('settled', TX);
    expect(payment.decided).toBe(true);
    expect(payment.ended).toBe(false); // settled, not delivered yet: what a refund report lists
    payment.delivered();
    expect(payment.state).toBe('delivered');
    expect(payment.ended).toBe(true);
    expect(retry()).toEqual({ kind: 'used' });
  });

  it('only a settled payment can be delivered', () => {
    expect(() => claimed().payment.delivered()).toThrow(IllegalTransitionError);
  });
});

describe('Payment: a resumed payment', () => {
  it('is forwarded without verification', () => {
    const { payment } = claimed(true);
    payment.forwarded();
    expect(payment.state).toBe('forwarded');
  });

  it('goes back to pending, never released, when the request ends before settling', async () => {
    const { payment, retry } = claimed(true);
    payment.forwarded();
    await payment.release();
    expect(payment.state).toBe('unknown');
    expect(retry()).toEqual({ kind: 'resumed', transaction: TX });
  });

  it('a decline keeps it pending (the earlier broadcast may land), with the earlier hash', async () => {
    const { payment, retry } = claimed(true);
    payment.forwarded();
    await payment.settling();
    await payment.end('declined');
    expect(payment.state).toBe('unknown');
    expect(retry()).toEqual({ kind: 'resumed', transaction: TX });
  });
});

describe('Payment: the safety net', () => {
  it('abandoned before a settle request: released', async () => {
    const { payment, retry } = await at('forwarded');
    await payment.abandon(undefined);
    expect(payment.state).toBe('released');
    expect(retry()).toEqual({ kind: 'claimed' });
  });

  it('abandoned after a settle request: the money may have moved, kept pending', async () => {
    const { payment, retry } = await at('settling');
    await payment.abandon(TX);
    expect(payment.state).toBe('unknown');
    expect(retry()).toEqual({ kind: 'resumed', transaction: TX });
  });

  it('abandoning an ended payment changes nothing', async () => {
    const { payment, retry } = await at('settling');
    await payment.end('settled', TX);
    await payment.abandon(undefined);
    expect(payment.state).toBe('settled');
    expect(retry()).toEqual({ kind: 'used' });
  });
});

describe('Payment: illegal moves are refused', () => {
  it('a fresh payment cannot be forwarded unverified, nor settle before it is forwarded', async () => {
    expect(() => claimed().payment.forwarded()).toThrow(IllegalTransitionError);
    await expect((await at('verified')).payment.settling()).rejects.toThrow(IllegalTransitionError);
  });

  it('an ended payment cannot move or end again', async () => {
    const { payment } = await at('settling');
    await payment.end('settled', TX);
    await expect(payment.end('unknown', TX)).rejects.toThrow(/settled → unknown/);
    expect(() => payment.release()).toThrow(IllegalTransitionError);
  });

  it('a settlement outcome needs a settle request first', async () => {
    await expect((await at('forwarded')).payment.end('settled', TX)).rejects.toThrow(
      IllegalTransitionError,
    );
  });

  it('the end states have no way out', () => {
    const ends: PaymentState[] = ['released', 'delivered', 'declined', 'unknown', 'failed'];
    for (const end of ends) expect(TRANSITIONS[end]).toEqual([]);
  });
});

/** Each store's method calls, logged by name as the payment makes them. */
function watching(log: string[]) {
  return <T extends object>(store: T): T =>
    new Proxy(store, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => {
          log.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
}

/** A book holding this payment's record in `state` (a resumed payment's: `unknown`). */
async function bookWith(state?: LedgerState): Promise<MemoryLedger> {
  const book = new MemoryLedger();
  await book.open();
  if (state === undefined) return book;
  await book.begin(FACTS, Date.now());
  if (state !== 'settling') {
    await book.change(KEY, ['settling'], { state, transaction: TX, detail: 'earlier' });
  }
  return book;
}

type Flavour = 'fresh' | 'resumed';

/** The calls that move a payment, and the state each asks for, fresh or resumed. */
const CALLS = {
  'recordVerdict(valid)': {
    fresh: 'verified',
    resumed: 'verified',
    run: (p: Payment) => p.recordVerdict(VALID),
  },
  'forwarded()': { fresh: 'forwarded', resumed: 'forwarded', run: (p: Payment) => p.forwarded() },
  'settling()': { fresh: 'settling', resumed: 'settling', run: (p: Payment) => p.settling() },
  // A resumed payment goes back to pending where a fresh one is released or declined.
  'release()': { fresh: 'released', resumed: 'unknown', run: (p: Payment) => p.release() },
  "end('settled')": {
    fresh: 'settled',
    resumed: 'settled',
    run: (p: Payment) => p.end('settled', TX),
  },
  "end('declined')": {
    fresh: 'declined',
    resumed: 'unknown',
    run: (p: Payment) => p.end('declined'),
  },
  "end('unknown')": {
    fresh: 'unknown',
    resumed: 'unknown',
    run: (p: Payment) => p.end('unknown', TX),
  },
  "end('failed')": { fresh: 'failed', resumed: 'failed', run: (p: Payment) => p.end('failed') },
  'delivered()': { fresh: 'delivered', resumed: 'delivered', run: (p: Payment) => p.delivered() },
} as const satisfies Record<
  string,
  Record<Flavour, PaymentState> & { run: (p: Payment) => unknown }
>;
type Call = keyof typeof CALLS;
const CALL_NAMES = Object.keys(CALLS) as Call[];

/** The table's rule, plus Payment.forwarded's own: only a resumed payment is forwarded unverified. */
function legal(flavour: Flavour, from: PaymentState, call: Call): boolean {
  if (call === 'forwarded()' && from === 'claimed' && flavour === 'fresh') return false;
  return TRANSITIONS[from].includes(CALLS[call][flavour]);
}

/** The shortest legal way from `claimed` to every state a payment of this flavour can reach. */
function routes(flavour: Flavour): Map<PaymentState, Call[]> {
  const found = new Map<PaymentState, Call[]>([['claimed', []]]);
  const queue: PaymentState[] = ['claimed'];
  for (let from = queue.shift(); from !== undefined; from = queue.shift()) {
    for (const call of CALL_NAMES) {
      const to = CALLS[call][flavour];
      if (!legal(flavour, from, call) || found.has(to)) continue;
      found.set(to, [...found.get(from)!, call]);
      queue.push(to);
    }
  }
  return found;
}

/** Every reachable state × every call, fresh and resumed. */
const MOVES = (['fresh', 'resumed'] as const).flatMap((flavour) =>
  [...routes(flavour)].flatMap(([from, route]) =>
    CALL_NAMES.map((call) => ({
      flavour,
      from,
      call,
      to: CALLS[call][flavour],
      legal: legal(flavour, from, call),
      route,
    })),
  ),
);

/** What a call did: its value, or what it threw (synchronously or as a rejection). */
async function outcomeOf(call: () => unknown): Promise<{ error?: unknown }> {
  try {
    await call();
    return {};
  } catch (error) {
    return { error };
  }
}

describe('Payment: every move, generated from TRANSITIONS', () => {
  it('the table is the machine of payment.ts and docs/ledger.md §5 (the cells below follow it)', () => {
    expect(TRANSITIONS).toEqual({
      claimed: ['verified', 'forwarded', 'released', 'unknown'],
      verified: ['forwarded', 'released'],
      forwarded: ['settling', 'released', 'unknown'],
      settling: ['settled', 'declined', 'unknown', 'failed'],
      released: [],
      settled: ['delivered'],
      delivered: [],
      declined: [],
      unknown: [],
      failed: [],
    });
  });

  it('reaches every state, and makes every move of the table through some call', () => {
    expect(new Set(MOVES.map((m) => m.from))).toEqual(new Set(Object.keys(TRANSITIONS)));
    for (const [from, tos] of Object.entries(TRANSITIONS)) {
      for (const to of tos) {
        expect(
          MOVES.some((m) => m.legal && m.from === from && m.to === to),
          `${from} → ${to}`,
        ).toBe(true);
      }
    }
    // Nothing leads back to claimed: a payment is claimed once, by its constructor.
    expect(Object.values(TRANSITIONS).flat()).not.toContain('claimed');
  });

  it.each(
    MOVES.map((m) => [m.flavour, m.from, m.call, m.legal ? `moves to ${m.to}` : 'is refused', m]),
  )('%s payment, %s: %s %s', async (_flavour, _from, _call, _verdict, m) => {
    const touched: string[] = [];
    const book = await bookWith(m.flavour === 'resumed' ? 'unknown' : undefined);
    const { payment } = claimed(m.flavour === 'resumed', book, watching(touched));
    for (const step of m.route) await CALLS[step].run(payment);
    expect(payment.state).toBe(m.from);
    const before = { touched: touched.length, book: await book.list() };

    const { error } = await outcomeOf(() => CALLS[m.call].run(payment));
    if (m.legal) {
      expect(error).toBeUndefined();
      expect(payment.state).toBe(m.to);
      return;
    }
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect((error as Error).message).toContain(`${m.from} → ${m.to}`);
    // Refused before anything: same state, no store touched, nothing written.
    expect(payment.state).toBe(m.from);
    expect(touched).toHaveLength(before.touched);
    expect(await book.list()).toEqual(before.book);
  });
});

interface Exit {
  readonly name: string;
  readonly resumed?: boolean;
  /** The record the book holds before the claim (a resumed payment's: unknown). */
  readonly seed?: LedgerState;
  /** Drive the payment to its end; the answer of `end()`, when it is called. */
  run(s: { payment: Payment; book: MemoryLedger }): Promise<boolean | void>;
  readonly state: PaymentState;
  /** The record's state after it; undefined: no row. */
  readonly book: LedgerState | undefined;
  /** What a retry with the same signature meets in this process's replay guard. */
  readonly retry: 'claimed' | 'resumed' | 'used';
  /** What `end()` answered (true: it moved the record; a settled one counts as revenue then). */
  readonly ended?: boolean;
}

/** A fresh payment up to `settling` (write-ahead durable). */
async function settlingFresh(p: Payment): Promise<void> {
  p.recordVerdict(VALID);
  p.forwarded();
  expect(await p.settling()).toEqual({ kind: 'settling' });
}

/** A resumed payment up to `settling` (its unknown record begun again). */
async function settlingResumed(p: Payment): Promise<void> {
  p.forwarded();
  expect(await p.settling()).toEqual({ kind: 'settling' });
}

const EXITS: readonly Exit[] = [
  {
    name: 'refused by verify, at claimed: no row (a bad signature writes nothing)',
    run: async ({ payment }) => {
      payment.recordVerdict(INVALID);
      await payment.release();
    },
    state: 'released',
    book: undefined,
    retry: 'claimed',
  },
  {
    name: 'released after verify (the upstream never answered): no row',
    run: async ({ payment }) => {
      payment.recordVerdict(VALID);
      await payment.release();
    },
    state: 'released',
    book: undefined,
    retry: 'claimed',
  },
  {
    name: 'released after the upstream answered (≥ 400, client gone, credited): an audit row',
    run: async ({ payment }) => {
      payment.recordVerdict(VALID);
      payment.forwarded();
      await payment.release();
    },
    state: 'released',
    book: 'released',
    retry: 'claimed',
  },
  {
    name: 'the write-ahead cannot be written: stays forwarded, released, nothing sent',
    run: async ({ payment, book }) => {
      payment.recordVerdict(VALID);
      payment.forwarded();
      book.failWrites = true;
      await expect(payment.settling()).rejects.toBeInstanceOf(LedgerUnavailableError);
      expect(payment.state).toBe('forwarded');
      await payment.release();
      book.failWrites = false;
    },
    state: 'released',
    book: undefined,
    retry: 'claimed',
  },
  {
    name: 'the book holds it settled already: recorded, released, the book unchanged',
    seed: 'settled',
    run: async ({ payment }) => {
      payment.recordVerdict(VALID);
      payment.forwarded();
      expect(await payment.settling()).toEqual({ kind: 'recorded', state: 'settled' });
      expect(payment.state).toBe('forwarded');
      await payment.release();
    },
    state: 'released',
    book: 'settled',
    retry: 'claimed', // this process's guard forgot it; the book refuses it again at the write-ahead
  },
  {
    name: 'settled',
    run: async ({ payment }) => {
      await settlingFresh(payment);
      return payment.end('settled', TX);
    },
    state: 'settled',
    book: 'settled',
    retry: 'used',
    ended: true,
  },
  {
    name: 'settled, but its end cannot be written: the record stays settling for the reconciler',
    run: async ({ payment, book }) => {
      await settlingFresh(payment);
      book.failWrites = true;
      const ended = await payment.end('settled', TX);
      book.failWrites = false;
      return ended;
    },
    state: 'settled',
    book: 'settling',
    retry: 'used',
    ended: false,
  },
  {
    name: 'settled, but the reconciler got there first: not counted twice',
    run: async ({ payment, book }) => {
      await settlingFresh(payment);
      await book.change(KEY, ['settling'], { state: 'settled', transaction: TX }, 'reconciler');
      return payment.end('settled', TX);
    },
    state: 'settled',
    book: 'settled',
    retry: 'used',
    ended: false,
  },
  {
    name: 'declined (proven: nothing moved)',
    run: async ({ payment }) => {
      await settlingFresh(payment);
      return payment.end('declined', undefined, 'invalid_exact_evm_insufficient_balance');
    },
    state: 'declined',
    book: 'declined',
    retry: 'claimed',
    ended: true,
  },
  {
    name: 'unknown (a timeout, a 5xx, an unlisted refusal)',
    run: async ({ payment }) => {
      await settlingFresh(payment);
      return payment.end('unknown', TX, 'timeout');
    },
    state: 'unknown',
    book: 'unknown',
    retry: 'resumed',
    ended: true,
  },
  {
    name: 'failed (the chain proved it can never pay)',
    run: async ({ payment }) => {
      await settlingFresh(payment);
      return payment.end('failed', undefined, 'the payer canceled the authorization');
    },
    state: 'failed',
    book: 'failed',
    retry: 'used',
    ended: true,
  },
  {
    name: 'settled and delivered',
    run: async ({ payment }) => {
      await settlingFresh(payment);
      const ended = await payment.end('settled', TX);
      payment.delivered();
      return ended;
    },
    state: 'delivered',
    book: 'settled',
    retry: 'used',
    ended: true,
  },
  {
    name: 'abandoned before its write-ahead: released, with an audit row (the upstream ran)',
    run: async ({ payment }) => {
      payment.recordVerdict(VALID);
      payment.forwarded();
      await payment.abandon(undefined);
    },
    state: 'released',
    book: 'released',
    retry: 'claimed',
  },
  {
    name: 'abandoned during its settlement: the money may have moved, unknown',
    run: async ({ payment }) => {
      await settlingFresh(payment);
      await payment.abandon(TX);
    },
    state: 'unknown',
    book: 'unknown',
    retry: 'resumed',
  },
  {
    name: 'abandoned after its end: nothing changes',
    run: async ({ payment }) => {
      await settlingFresh(payment);
      const ended = await payment.end('settled', TX);
      await payment.abandon(undefined);
      return ended;
    },
    state: 'settled',
    book: 'settled',
    retry: 'used',
    ended: true,
  },
  {
    name: 'resumed, released before settling: back to pending, the record untouched',
    resumed: true,
    seed: 'unknown',
    run: async ({ payment }) => {
      payment.forwarded();
      await payment.release();
    },
    state: 'unknown',
    book: 'unknown',
    retry: 'resumed',
  },
  {
    name: 'resumed, settled',
    resumed: true,
    seed: 'unknown',
    run: async ({ payment }) => {
      await settlingResumed(payment);
      return payment.end('settled', TX);
    },
    state: 'settled',
    book: 'settled',
    retry: 'used',
    ended: true,
  },
  {
    name: 'resumed, declined on retry: still unknown (the first broadcast may land)',
    resumed: true,
    seed: 'unknown',
    run: async ({ payment }) => {
      await settlingResumed(payment);
      return payment.end('declined', undefined, 'invalid_exact_evm_insufficient_balance');
    },
    state: 'unknown',
    book: 'unknown',
    retry: 'resumed',
    ended: true,
  },
  {
    name: 'resumed, failed on chain',
    resumed: true,
    seed: 'unknown',
    run: async ({ payment }) => {
      await settlingResumed(payment);
      return payment.end('failed', undefined, 'the payer canceled the authorization');
    },
    state: 'failed',
    book: 'failed',
    retry: 'used',
    ended: true,
  },
  {
    name: 'resumed, abandoned during its settlement: unknown',
    resumed: true,
    seed: 'unknown',
    run: async ({ payment }) => {
      await settlingResumed(payment);
      await payment.abandon(undefined);
    },
    state: 'unknown',
    book: 'unknown',
    retry: 'resumed',
  },
];

describe('Payment: every exit path, with the book', () => {
  it.each(EXITS.map((e) => [e.name, e]))('%s', async (_name, e) => {
    const book = await bookWith(e.seed);
    const { payment, retry } = claimed(e.resumed === true, book);
    const ended = await e.run({ payment, book });
    expect(payment.state).toBe(e.state);
    expect(ended).toBe(e.ended);
    expect((await book.get(KEY))?.state).toBe(e.book);
    expect(retry().kind).toBe(e.retry);
  });
});
