/**
 * A crash between any two steps of a paid request, table-driven against fakes: a chain (the token's
 * nonces and transfers), a facilitator whose settle moves money on it (or not, and answers, or
 * not), the in-memory book with an honest crash (an awaited write is durable once answered; an
 * attempt or audit row only once its batch commits), and a clock (`Date` is faked in this file).
 *
 * One payment goes through the steps a request performs (stages claim → verify → forward → settle →
 * the response; the real Payment, replay guard, recall index and credit index). At each crash
 * point everything in memory is thrown away; the restart restores from the book that survived and
 * runs the start-up reconciliation over a chain reader of the fake chain. Then, for every cell
 * (crash point × facilitator behaviour × what the chain does while the gateway is down), the rules
 * of money (docs/ledger.md §1, §5, §6, §7, §8) must hold:
 *
 * - no money moved without a record that was durable before the settle request (write-ahead);
 * - every record agrees with the chain: our transfer landed ⇔ settled|confirmed; nothing landed and
 *   it never can ⇒ failed; nothing landed and it still may ⇒ unknown (never settled, never
 *   released); declined only where the facilitator's proven refusal was written;
 * - revenue is counted exactly once per transfer (by the request, or by the reconciler), and the
 *   restarted counter (the book's paid sum, then the pass's settlements) equals the chain's;
 * - a payment that may have moved money is never fresh again in the replay guard;
 * - a settled payment never delivered whole is redeemable (recall index), and a credit when the
 *   book proves it (its undelivered paid attempt row, or a settlement decided by the reconciler).
 *
 * The devnet proof on real parts: test/e2e/gateway/crash-recovery.test.ts.
 */
import pino from 'pino';
import type { Hex } from 'viem';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  ChainReader,
  SettledVerdict,
  TransferQuery,
  TransferVerdict,
} from '../../../src/chains/index.js';
import {
  PAID_STATES,
  type LedgerRecord,
  type LedgerState,
  type PaymentFacts,
} from '../../../src/ledger/index.js';
import { CreditIndex } from '../../../src/payment/credits.js';
import { holdUntilSec } from '../../../src/payment/hold.js';
import { Payment } from '../../../src/payment/payment.js';
import { RecallIndex } from '../../../src/payment/recall-index.js';
import { Reconciler } from '../../../src/payment/reconcile.js';
import { restoreFromLedger } from '../../../src/payment/restore.js';
import { checkSuccess, classifySettlement, type SettleOutcome } from '../../../src/settle/index.js';
import { LruVerifyCache } from '../../../src/verify/cache.js';
import { InMemoryReplayGuard } from '../../../src/verify/replay.js';
import type { FacilitatorResult } from '../../../src/verify/types.js';
import type { SettleResponse } from '../../../src/x402/index.js';
import { attemptOf, paymentFacts } from '../../helpers/ledger-conformance.js';
import { MemoryLedger } from '../../helpers/memory-ledger.js';

const NET = 'eip155:84532';
/** The fake clock's start (unix ms). */
const T0 = 1_800_000_000_000;
/** The authorization is good for ten minutes. */
const VALID_BEFORE = T0 / 1000 + 600;
const MARGIN_SECONDS = 120;
const REDEEM_WINDOW_SECONDS = 3_600;
const OFFER = { network: { caip2: NET, v1Name: 'base-sepolia' } };
const PAID = new Set<LedgerState>(PAID_STATES);
const SILENT = pino({ level: 'silent' });

// ---------------------------------------------------------------------------------------------
// The fakes

/** Time moves only when a test moves it: `Date.now()` is the fake clock (every part reads it). */
const clock = {
  nowSec: () => Math.floor(Date.now() / 1000),
  advance: (ms: number) => vi.setSystemTime(Date.now() + ms),
  set: (ms: number) => vi.setSystemTime(ms),
};

interface Transfer {
  readonly tx: Hex;
  readonly asset: string;
  readonly from: string;
  readonly to: string;
  readonly value: bigint;
  readonly nonce: string;
  readonly block: bigint;
}

/** The token on a chain: EIP-3009 nonces (used by our transfer, or canceled), and transfers. */
class FakeChain {
  readonly transfers: Transfer[] = [];
  readonly #nonces = new Map<string, 'transferred' | 'canceled'>();
  head = 1_000n;

  static #id(asset: string, from: string, nonce: string): string {
    return `${asset}:${from}:${nonce}`.toLowerCase();
  }

  /** transferWithAuthorization, with the token's own checks. */
  transferWithAuthorization(f: PaymentFacts): Hex {
    const id = FakeChain.#id(f.asset, f.payer, f.nonce);
    if (this.#nonces.has(id)) throw new Error('FiatTokenV2: authorization is used or canceled');
    if (clock.nowSec() >= f.validBefore) throw new Error('FiatTokenV2: authorization is expired');
    this.#nonces.set(id, 'transferred');
    this.head += 1n;
    const tx: Hex = `0x${(this.transfers.length + 1).toString(16).padStart(64, 'e')}`;
    this.transfers.push({
      tx,
      asset: f.asset,
      from: f.payer,
      to: f.payTo,
      value: BigInt(f.amount),
      nonce: f.nonce,
      block: this.head,
    });
    return tx;
  }

  /** cancelAuthorization: refused once the nonce is used. */
  cancelAuthorization(f: PaymentFacts): boolean {
    const id = FakeChain.#id(f.asset, f.payer, f.nonce);
    if (this.#nonces.has(id)) return false;
    this.#nonces.set(id, 'canceled');
    this.head += 1n;
    return true;
  }

  nonceUsed(asset: string, from: string, nonce: string): boolean {
    return this.#nonces.has(FakeChain.#id(asset, from, nonce));
  }

  /** Our transfer for this authorization, if it landed. */
  transferOf(q: { asset: string; from: string; to: string; value: bigint; nonce: string }) {
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    return this.transfers.find(
      (t) =>
        same(t.asset, q.asset) &&
        same(t.from, q.from) &&
        same(t.to, q.to) &&
        same(t.nonce, q.nonce) &&
        t.value === q.value,
    );
  }

  /** Atomic units that reached `payTo`. */
  receivedBy(payTo: string): bigint {
    return this.transfers
      .filter((t) => t.to.toLowerCase() === payTo.toLowerCase())
      .reduce((sum, t) => sum + t.value, 0n);
  }
}

/** A chain reader over the fake chain: what src/chains/transfer-check.ts reads from a real one. */
function readerOf(chain: FakeChain): ChainReader {
  const transfer = (q: TransferQuery): TransferVerdict => {
    const landed = chain.transferOf(q);
    if (landed !== undefined) return { kind: 'landed', transaction: landed.tx };
    if (chain.nonceUsed(q.asset, q.from, q.nonce)) {
      return { kind: 'failed', detail: 'the nonce was used without our transfer' };
    }
    if (clock.nowSec() >= q.validBefore) {
      return { kind: 'failed', detail: 'the nonce is unused and validBefore has passed' };
    }
    return { kind: 'open', detail: 'the nonce is unused' };
  };
  const settled = (q: TransferQuery, confirmations: number): SettledVerdict => {
    const landed = chain.transferOf(q);
    if (landed === undefined) return { kind: 'disputed', detail: 'no transfer of ours on chain' };
    const seen = chain.head - landed.block + 1n;
    return seen >= BigInt(confirmations)
      ? { kind: 'confirmed', transaction: landed.tx, confirmations: seen }
      : { kind: 'waiting', confirmations: seen };
  };
  return {
    checkTransfer: (q) => Promise.resolve(transfer(q)),
    checkSettled: (q, confirmations) => Promise.resolve(settled(q, confirmations)),
  };
}

/** How the facilitator handles a settle request. */
interface Behaviour {
  readonly name: string;
  /** It broadcasts our transfer (the money moves) before answering. */
  readonly broadcasts: boolean;
  /** The response after the settle request: served whole, or broken off mid-body. */
  readonly delivered: boolean;
  answer(tx: Hex | undefined, f: PaymentFacts): FacilitatorResult<SettleResponse>;
}

const success = (tx: Hex | undefined, f: PaymentFacts): FacilitatorResult<SettleResponse> => ({
  kind: 'ok',
  status: 200,
  value: { success: true, transaction: tx!, network: NET, payer: f.payer },
});
const timeout: FacilitatorResult<SettleResponse> = {
  kind: 'unavailable',
  failure: 'timeout',
  detail: 'settle: no answer within 10000 ms',
};

const BEHAVIOURS: readonly Behaviour[] = [
  { name: 'answers success', broadcasts: true, delivered: true, answer: success },
  {
    name: 'answers success, the response breaks off',
    broadcasts: true,
    delivered: false,
    answer: success,
  },
  {
    name: 'times out after moving money',
    broadcasts: true,
    delivered: true,
    answer: () => timeout,
  },
  {
    name: 'moves money then 500s',
    broadcasts: true,
    delivered: true,
    answer: (tx) => ({
      kind: 'ok',
      status: 500,
      value: {
        success: false,
        errorReason: 'unexpected_settle_error',
        transaction: tx!,
        network: NET,
      },
    }),
  },
  {
    name: 'declines before moving',
    broadcasts: false,
    delivered: true,
    answer: () => ({
      kind: 'ok',
      status: 400,
      value: {
        success: false,
        errorReason: 'invalid_exact_evm_insufficient_balance',
        transaction: '',
        network: NET,
      },
    }),
  },
  {
    name: 'times out before moving',
    broadcasts: false,
    delivered: true,
    answer: () => timeout,
  },
];

/** A facilitator over the fake chain, settling in two halves so a crash can fall between them. */
class FakeFacilitator {
  /** Each settle request, with the state of its record in the book that would survive a crash. */
  readonly calls: { readonly key: string; readonly durable: LedgerState | undefined }[] = [];
  #tx: Hex | undefined = undefined;

  constructor(
    readonly behaviour: Behaviour,
    readonly chain: FakeChain,
  ) {}

  /** POST /settle arrives; this behaviour broadcasts our transfer, or does not. */
  async receive(f: PaymentFacts, book: MemoryLedger): Promise<void> {
    const survivor = book.durable();
    await survivor.open();
    this.calls.push({ key: f.key, durable: (await survivor.get(f.key))?.state });
    if (this.behaviour.broadcasts) this.#tx = this.chain.transferWithAuthorization(f);
  }

  /** Its answer, if the gateway is still there to hear it. */
  answer(f: PaymentFacts): FacilitatorResult<SettleResponse> {
    return this.behaviour.answer(this.#tx, f);
  }
}

// ---------------------------------------------------------------------------------------------
// The request, step by step

/** One cell's world: what outlives the gateway process (the chain, the facilitator, the book). */
interface World {
  readonly facts: PaymentFacts;
  readonly chain: FakeChain;
  readonly facilitator: FakeFacilitator;
  /** Revenue counted, by whom, in either life of the gateway. */
  readonly counted: { readonly key: string; readonly amount: bigint; readonly by: string }[];
  /** The end the request wrote to the book (`end()` answered), if it got that far. */
  written: SettleOutcome['kind'] | undefined;
}

/** The gateway process before the crash: all of it is thrown away at the crash. */
interface Process {
  readonly book: MemoryLedger;
  readonly replay: InMemoryReplayGuard;
  readonly verifyCache: LruVerifyCache;
  readonly recallIndex: RecallIndex;
  readonly credits: CreditIndex;
  payment?: Payment;
  outcome?: SettleOutcome;
}

interface Step {
  /** The crash point after this step, as a test name says it. */
  readonly crash: string;
  run(w: World, p: Process): Promise<void> | void;
}

const STEPS: readonly Step[] = [
  {
    crash: 'after the claim',
    run(w, p) {
      const f = w.facts;
      const holdUntil = holdUntilSec(f.validBefore, clock.nowSec());
      const claimed = p.replay.claim(f.key, () => f.digest, (holdUntil + MARGIN_SECONDS) * 1000);
      expect(claimed).toEqual({ kind: 'claimed' });
      const stores = { replay: p.replay, verifyCache: p.verifyCache, ledger: p.book };
      p.payment = new Payment(stores, {
        key: f.key,
        digestOf: () => f.digest,
        holdUntilSec: holdUntil,
        resumed: false,
        priorTransaction: undefined,
        recordOf: () => f,
      });
    },
  },
  {
    crash: 'after the verdict',
    run: (w, p) => p.payment!.recordVerdict({ isValid: true, payer: w.facts.payer }),
  },
  {
    crash: 'after the upstream answered',
    run: (_w, p) => p.payment!.forwarded(),
  },
  {
    crash: 'after the write-ahead record',
    async run(_w, p) {
      expect(await p.payment!.settling()).toEqual({ kind: 'settling' });
    },
  },
  {
    crash: 'between the broadcast and the answer',
    run: (w, p) => w.facilitator.receive(w.facts, p.book),
  },
  {
    crash: 'after the answer, before its end is written',
    run(w, p) {
      p.outcome = checkSuccess(
        classifySettlement(w.facilitator.answer(w.facts)),
        OFFER,
        w.facts.payer,
      );
    },
  },
  {
    crash: 'after its end is written',
    async run(w, p) {
      // As stages/settle.ts does with each outcome.
      const f = w.facts;
      const payment = p.payment!;
      const outcome = p.outcome!;
      switch (outcome.kind) {
        case 'success': {
          const moved = await payment.end('settled', outcome.response.transaction);
          if (moved) w.counted.push({ key: f.key, amount: BigInt(f.amount), by: 'the request' });
          break;
        }
        case 'declined':
          await payment.end('declined', undefined, outcome.reason);
          break;
        case 'unknown':
          await payment.end('unknown', outcome.transaction, outcome.detail);
          p.recallIndex.add(f.nonce, f.key);
          p.credits.addUnknown(f, f.key);
          break;
        case 'failed':
          throw new Error('only a resumed settlement fails on chain');
      }
      w.written = outcome.kind;
    },
  },
  {
    crash: 'after the response, before its attempt row commits',
    run(w, p) {
      // As pipeline/run.ts observe() does once the response closed.
      const f = w.facts;
      const payment = p.payment!;
      const paidFor = payment.state === 'settled';
      const delivered = paidFor && w.facilitator.behaviour.delivered;
      if (delivered) payment.delivered();
      const outcome = paidFor
        ? 'paid'
        : p.outcome!.kind === 'declined'
          ? 'settlement_failed'
          : 'settlement_pending';
      p.book.attempt(attemptOf(f.key, { outcome, delivered, endedAt: Date.now() }));
      if (!paidFor) return;
      if (delivered) {
        p.credits.spend(f.key);
        p.recallIndex.delete(f.nonce);
      } else {
        const tx = p.outcome?.kind === 'success' ? p.outcome.response.transaction : undefined;
        p.credits.grant({ ...f, transaction: tx, settledAt: Date.now() });
        p.recallIndex.add(f.nonce, f.key);
      }
    },
  },
  {
    crash: 'after its attempt row commits',
    run: (_w, p) => p.book.flush(),
  },
];

/** What the chain does while the gateway is down. */
interface WhileDown {
  readonly name: string;
  apply(w: World): void;
}

const WHILE_DOWN: readonly WhileDown[] = [
  { name: 'nothing happens', apply: () => clock.advance(5_000) },
  {
    name: 'validBefore passes',
    // Within the replay margin: a spent payment is still held against a replay.
    apply: () => clock.set(VALID_BEFORE * 1000 + 30_000),
  },
  {
    name: 'the payer cancels the nonce',
    apply(w) {
      w.chain.cancelAuthorization(w.facts);
      clock.advance(5_000);
    },
  },
];

/** A gateway process started on `book`: restored from it, then its start-up reconciliation. */
async function restart(w: World, book: MemoryLedger) {
  await book.open();
  const replay = new InMemoryReplayGuard({ maxEntries: 100 });
  const recallIndex = new RecallIndex();
  const credits = new CreditIndex(REDEEM_WINDOW_SECONDS * 1000);
  await restoreFromLedger({
    ledger: book,
    replay,
    recallIndex,
    credits,
    marginSeconds: MARGIN_SECONDS,
    redeemWindowSeconds: REDEEM_WINDOW_SECONDS,
    nowMs: Date.now(),
  });
  // The revenue counter starts from the book (src/gateway.ts), then the pass adds its settlements.
  let counter = (await book.revenue()).reduce((sum, t) => sum + BigInt(t.amount), 0n);
  const reader = readerOf(w.chain);
  const reconciler = new Reconciler({
    ledger: book,
    chains: new Map([[NET, reader]]),
    confirmations: 1,
    settlingGraceMs: 25_000,
    recallIndex,
    credits,
    replay,
    log: SILENT,
    onSettled: (r: LedgerRecord) => {
      counter += BigInt(r.amount);
      w.counted.push({ key: r.key, amount: BigInt(r.amount), by: 'the reconciler' });
    },
    onOutcome: () => undefined,
    now: () => Date.now(),
  });
  const summary = await reconciler.pass({ startup: true });
  return { book, replay, recallIndex, credits, reconciler, summary, counter: () => counter };
}

type Restarted = Awaited<ReturnType<typeof restart>>;

/** Run the request up to crash point `k` (after step k), crash, let the chain move, restart. */
async function crashAt(k: number, behaviour: Behaviour, whileDown: WhileDown) {
  clock.set(T0);
  const chain = new FakeChain();
  const w: World = {
    facts: paymentFacts({ validBefore: VALID_BEFORE }),
    chain,
    facilitator: new FakeFacilitator(behaviour, chain),
    counted: [],
    written: undefined,
  };
  const book = new MemoryLedger();
  await book.open();
  const p: Process = {
    book,
    replay: new InMemoryReplayGuard({ maxEntries: 100 }),
    verifyCache: new LruVerifyCache({ maxEntries: 100, negativeTtlMs: 60_000 }),
    recallIndex: new RecallIndex(),
    credits: new CreditIndex(REDEEM_WINDOW_SECONDS * 1000),
  };
  for (const step of STEPS.slice(0, k + 1)) {
    await step.run(w, p);
    clock.advance(100);
  }
  const survivor = book.crash();
  whileDown.apply(w);
  return { w, after: await restart(w, survivor) };
}

// ---------------------------------------------------------------------------------------------
// The rules of money

/** JSON, with bigints as `1000n`. */
function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

/**
 * The rules of money this restart breaks, each with what was seen (none: an empty list). One list
 * per restart, so a failing cell names every rule it broke at once.
 */
async function brokenRules(w: World, after: Restarted): Promise<string[]> {
  const broken: string[] = [];
  const rule = (kept: boolean, name: string, seen: unknown): void => {
    if (!kept) broken.push(`${name}; seen: ${show(seen)}`);
  };
  const f = w.facts;
  const { chain, facilitator } = w;
  const record = await after.book.get(f.key);
  const state = record?.state;
  const landed = chain.transferOf({
    asset: f.asset,
    from: f.payer,
    to: f.payTo,
    value: BigInt(f.amount),
    nonce: f.nonce,
  });

  // Write-ahead: every settle request found its record durable, as `settling`; no money moved
  // without one.
  rule(
    facilitator.calls.every((c) => c.key === f.key && c.durable === 'settling'),
    'write-ahead: a settle request was sent for a payment the book did not hold as settling',
    facilitator.calls,
  );
  rule(
    record !== undefined || (facilitator.calls.length === 0 && chain.transfers.length === 0),
    'write-ahead: money moved, or a settle request went out, and the book has no record',
    { calls: facilitator.calls, transfers: chain.transfers },
  );

  // The book agrees with the chain once the start-up pass ran.
  const never = chain.nonceUsed(f.asset, f.payer, f.nonce) || clock.nowSec() >= f.validBefore;
  const agreed: readonly (LedgerState | undefined)[] =
    landed !== undefined
      ? ['settled', 'confirmed']
      : record === undefined
        ? [undefined]
        : w.written === 'declined'
          ? ['declined'] // the facilitator's proven refusal, written before the crash
          : [never ? 'failed' : 'unknown'];
  rule(agreed.includes(state), `the book disagrees with the chain: expected ${agreed.join('|')}`, {
    state,
    landed: landed?.tx,
    never,
  });
  rule(
    landed === undefined || record?.transaction === landed.tx,
    'a settled record names another transaction than the one that carried our transfer',
    { recorded: record?.transaction, landed: landed?.tx },
  );

  // Revenue: each transfer counted once, by the request or the reconciler; the restarted counter
  // and the book's paid total are the chain's.
  const received = chain.receivedBy(f.payTo);
  const counted = w.counted.reduce((sum, c) => sum + c.amount, 0n);
  const booked = (await after.book.revenue()).reduce((sum, t) => sum + BigInt(t.amount), 0n);
  rule(
    w.counted.length === chain.transfers.length && counted === received,
    'revenue was not counted exactly once per transfer',
    { counted: w.counted, received },
  );
  rule(
    after.counter() === received && booked === received,
    "the restarted revenue counter or the book's paid total is not the chain's",
    { counter: after.counter(), booked, received },
  );

  // Redeemable and a credit: settled, never delivered whole. A retry of an unknown one is the
  // book's to answer (it resumes), and so is a failed one's (settlement_failed).
  const terms = { ...f };
  const undelivered = record !== undefined && PAID.has(record.state) && !record.deliveredAt;
  const recalled = undelivered || state === 'unknown' || state === 'failed';
  const indexed = after.recallIndex.lookup(f.nonce);
  rule(indexed === (recalled ? f.key : undefined), 'the recall index is wrong', {
    state,
    delivered: record?.deliveredAt !== undefined,
    indexed,
  });
  // A credit serves the payer's NEXT payment: only with proof in the book that no response went
  // out (its paid attempt row, or a settlement the reconciler decided after the request ended).
  // A crash before the row commits leaves no proof: redeemable by its own retry, but no credit.
  const attempts = await after.book.attempts(f.key);
  const byReconciler = (await after.book.resolutions(f.key)).some(
    (x) => x.to === 'settled' && x.by === 'reconciler',
  );
  const proven = attempts.some((a) => a.outcome === 'paid') || byReconciler;
  const unknownOf = after.credits.unknownOf(terms);
  const credit = after.credits.take(terms, Date.now())?.key;
  rule(
    credit === (undelivered && proven ? f.key : undefined) &&
      unknownOf.length === (state === 'unknown' ? 1 : 0),
    'the credit index is wrong: a settled payment proven undelivered is a credit, an unknown one may be',
    { state, delivered: record?.deliveredAt !== undefined, proven, credit, unknownOf },
  );

  // Never released while the money may have moved (or did): the same payload resumes an unknown
  // settlement, anything else is used; only what moved nothing, provably, is fresh again.
  const expires = Date.now() + 600_000;
  const fresh = record === undefined || state === 'declined';
  const same = after.replay.claim(f.key, () => f.digest, expires).kind;
  const other = fresh ? 'used' : after.replay.claim(f.key, () => 'another payload', expires).kind;
  const wanted = fresh ? 'claimed' : state === 'unknown' ? 'resumed' : 'used';
  rule(
    same === wanted && other === 'used',
    `the replay guard after the restart: expected ${wanted} for the same payload, used for another`,
    { state, same, other },
  );
  return broken;
}

// ---------------------------------------------------------------------------------------------
// The table

const CELLS = STEPS.flatMap((step, k) =>
  BEHAVIOURS.flatMap((behaviour) =>
    WHILE_DOWN.map((whileDown) => ({ k, step, behaviour, whileDown })),
  ),
);

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: T0 });
});
afterAll(() => {
  vi.useRealTimers();
});
beforeEach(() => clock.set(T0));

describe('the crash model of the in-memory book', () => {
  it('keeps answered writes and committed rows; loses rows still waiting for their batch', async () => {
    const book = new MemoryLedger();
    await book.open();
    const a = paymentFacts();
    const b = paymentFacts();
    await book.begin(a, T0);
    book.attempt(attemptOf(a.key, { delivered: true, endedAt: T0 + 1 }));
    book.audit(b, 'released', T0);
    expect((await book.get(a.key))?.deliveredAt).toBeDefined(); // visible at once…
    const survivor = book.durable();
    await survivor.open();
    expect((await survivor.get(a.key))?.state).toBe('settling'); // …but only the write survives
    expect((await survivor.get(a.key))?.deliveredAt).toBeUndefined();
    expect(await survivor.get(b.key)).toBeUndefined();
    expect(await survivor.attempts(a.key)).toEqual([]);

    await book.change(a.key, ['settling'], { state: 'settled' }); // the rows ride in its batch
    const later = book.crash();
    await expect(book.get(a.key)).rejects.toThrow(/not open/); // the dead process answers nothing
    await later.open();
    expect(await later.get(a.key)).toMatchObject({ state: 'settled', deliveredAt: T0 + 1 });
    expect((await later.get(b.key))?.state).toBe('released');
    expect(await later.attempts(a.key)).toHaveLength(1);
  });

  it('flush() commits the waiting rows', async () => {
    const book = new MemoryLedger();
    await book.open();
    const a = paymentFacts();
    book.audit(a, 'released', T0);
    book.flush();
    const survivor = book.crash();
    await survivor.open();
    expect((await survivor.get(a.key))?.state).toBe('released');
  });
});

describe('a crash between any two steps of a paid request, then a restart', () => {
  it('the table has every crash point × facilitator behaviour × what the chain does meanwhile', () => {
    expect(CELLS).toHaveLength(STEPS.length * BEHAVIOURS.length * WHILE_DOWN.length);
  });

  it.each(
    CELLS.map((c) => [
      `${c.k + 1}/${STEPS.length}`,
      c.step.crash,
      c.behaviour.name,
      c.whileDown.name,
      c,
    ]),
  )('crash %s %s | facilitator %s | while down: %s', async (_n, _crash, _behaviour, _down, c) => {
    const { w, after } = await crashAt(c.k, c.behaviour, c.whileDown);
    expect(after.summary.no_rpc).toBe(0);
    expect(await brokenRules(w, after)).toEqual([]);

    // Another crash right after the pass, and another restart: what the first one decided is
    // durable. Nothing is settled, failed or counted again; a settled record is confirmed now.
    const before = await after.book.get(w.facts.key);
    const again = await restart(w, after.book.crash());
    const now = await again.book.get(w.facts.key);
    expect(now?.state).toBe(before?.state === 'settled' ? 'confirmed' : before?.state);
    expect(now?.transaction).toBe(before?.transaction);
    expect(again.summary.settled + again.summary.failed).toBe(0);
    expect(await brokenRules(w, again)).toEqual([]);
  });
});

describe('known gap (reported, not fixed here): a late settlement is forgotten by the next restart', () => {
  // restore.ts lists settled, undelivered records by creation time (`since: now − window − 1 day`)
  // and only then checks settledAt against the window: a record settled more than a day after it
  // was written (the gateway, or the network's RPC, down for two days; or `ledger resolve --as
  // settled` on an old unknown record) is redeemable and a credit in the process that settled it,
  // but not after the next restart, though its settlement is well inside the redeem window.
  it('settled two days after its write-ahead, undelivered: still redeemable after a restart', async () => {
    const twoDaysDown: WhileDown = {
      name: 'two days pass',
      apply: () => clock.advance(2 * 86_400_000),
    };
    const timesOut = BEHAVIOURS.find((b) => b.name === 'times out after moving money')!;
    const { w, after } = await crashAt(STEPS.length - 1, timesOut, twoDaysDown);
    const f = w.facts;
    expect((await after.book.get(f.key))?.state).toBe('settled'); // by this start-up pass, now
    expect(after.recallIndex.lookup(f.nonce)).toBe(f.key); // redeemable, in this process
    expect(after.credits.take(f, Date.now())?.key).toBe(f.key);

    clock.advance(10 * 60_000); // ten minutes later, well inside the hour's redeem window
    const again = await restart(w, after.book.crash());
    expect(again.recallIndex.lookup(f.nonce)).toBe(f.key);
    expect(again.credits.take(f, Date.now())?.key).toBe(f.key);
  });
});
