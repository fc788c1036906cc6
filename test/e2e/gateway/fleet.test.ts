/**
 * Issue 15 §4, first proofs: a fleet on real parts. Two gateways (in-process, each its own
 * listener, metrics and in-memory state) share one real Redis as their replay store
 * (`store: { redis }`) and one real Postgres as their book of record (`ledger: { postgres }`), on a
 * devnet, settling through one built-in facilitator served over HTTP in its own process
 * (`x402-gateway facilitator`), which really broadcasts. Between the gateways and the facilitator,
 * a fault-injecting proxy (faulty-facilitator.ts) passes every /settle but the one case 2 holds.
 *
 * 1. 1,000 copies of one signed payment, spread over both instances, 100 in flight (50 each): one
 *    200, every other copy 402 payment_already_used (or 503 replay_store_unavailable where its
 *    claim command missed its deadline: fail closed, counted as a store timeout); one upstream
 *    call, one /settle, one transfer.
 * 2. A /settle that does not answer in time for instance A (forwarded at once, so the money moves,
 *    its answer held past A's settle deadline): A answers 503 settlement_pending; the client's
 *    retry on instance B resumes the settlement (no verify; the facilitator refuses the spent nonce,
 *    so B reads the chain through `rpcUrls`) and is served once; the ledger row is settled once and
 *    revenue is counted once across both instances' metrics; later copies on either are refused.
 * 3. The books: transfers to payTo on chain == the Postgres ledger's paid total == served paid
 *    responses × price == revenue on both instances' /metrics.
 *
 * 3. One response at a time per record, fleet-wide: A leaves a settlement unknown; B's retry
 *    resumes it and streams a slow response; a copy on A (whose recall index names the payment,
 *    now settled and undelivered in the book) is answered 503 settlement_pending while B streams,
 *    never served a second time; once B delivered, every copy is used.
 * 4. A's reconciler settles what A left unknown (the claim in Redis becomes spent): the retry on B,
 *    whose recall index never heard of it, is served once from the shared book (a redemption).
 *
 * The reconcilers run only when a case asks (a long interval, then `POST /ledger/reconcile`).
 * Loopback only; every wait bounded; every server stopped in afterAll.
 */
import type { Address, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfigText } from '../../../src/config/index.js';
import { PAID_STATES, PostgresLedger, type LedgerRecord } from '../../../src/ledger/index.js';
import { startGateway, type RunningGateway } from '../../../src/server.js';
import {
  account,
  balanceOf,
  freshAddress,
  newPayer,
  SETTLER_INDEX,
  transfersTo,
  useDevnet,
} from '../../helpers/devnet.js';
import {
  startFacilitatorProcess,
  type FacilitatorProcess,
} from '../../helpers/facilitator-process.js';
import {
  startFaultyFacilitator,
  type FaultyFacilitator,
  type SettleFault,
} from '../../helpers/faulty-facilitator.js';
import { payWith, signFor, type PaymentHeader } from '../../helpers/pay.js';
import { authorizationOf } from '../../helpers/payments.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';
import { decodeHeader, type RawResponse } from '../../helpers/raw-http.js';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { startTestUpstream, type TestUpstream } from '../../helpers/upstream.js';
import { answerLabel as label, revenueIn, tally } from '../../helpers/answers.js';

const PRICE = 2_000n;
/** Instance A's settle phase: the held /settle answer of case 2 comes after it. */
const SETTLE_TIMEOUT_A_MS = 1_500;
const SETTLE_TIMEOUT_B_MS = 5_000;
/** How long the proxy holds the answer it holds (longer than A's settle phase). */
const HELD_MS = SETTLE_TIMEOUT_A_MS + 1_500;
/**
 * Both gateways, and the 100 clients, share this process's event loop: a command deadline of the
 * default 150 ms would measure that loop on a busy 2-core machine, not Redis.
 */
const REDIS_COMMAND_TIMEOUT_MS = 1_000;
const COPIES = 1_000;
const IN_FLIGHT_PER_INSTANCE = 50;

const suite = useDevnet();
const dir = tempDir();
const payTo: Address = freshAddress();
let redis: RedisServer;
let postgres: PostgresServer;
let book: PostgresLedger;
let upstream: TestUpstream;
let facilitator: FacilitatorProcess;
let proxy: FaultyFacilitator;
let a: RunningGateway;
let b: RunningGateway;
/** Nonces (lower case) whose first /settle the proxy holds past A's deadline. */
const holdFirstSettle = new Set<string>();
/** /settle calls the proxy received, per nonce. */
const settles = new Map<string, SettleFault[]>();
/** Every paid response served (200 with a successful PAYMENT-RESPONSE), over the whole file. */
const served: Array<{ nonce: string; tx: string }> = [];

beforeAll(async () => {
  const devnet = suite.devnet;
  [redis, postgres, upstream, facilitator] = await Promise.all([
    startRedis(),
    startPostgres(),
    startTestUpstream(),
    startFacilitatorProcess({
      rpcUrl: devnet.rpcUrl,
      privateKey: account(devnet, SETTLER_INDEX).privateKey,
      receiptTimeoutMs: 10_000,
    }),
  ]);
  const ledgerUrl = await postgres.createSchema('fleet');
  proxy = await startFaultyFacilitator({
    target: facilitator.url,
    lateMs: HELD_MS,
    decide: ({ nonce }) => {
      const seen = settles.get(nonce ?? '') ?? [];
      const fault: SettleFault =
        nonce !== undefined && holdFirstSettle.has(nonce) && seen.length === 0
          ? 'late-after'
          : 'pass';
      settles.set(nonce ?? '', [...seen, fault]);
      return fault;
    },
  });
  const yaml = (settleTimeoutMs: number): string => `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdownTimeoutMs: 2000 }
facilitator:
  url: ${proxy.url}
  verifyTimeoutMs: 5000
  settleTimeoutMs: ${settleTimeoutMs}
rpcUrls:
  "${devnet.network.caip2}": ${devnet.rpcUrl}
payment:
  network: ${devnet.network.v1Name}
  payTo: "${payTo}"
  maxTimeoutSeconds: 120
  asset: { address: "${devnet.usdc}", decimals: 6, name: USDC, version: "2" }
upstream: ${upstream.url}
upstreamTimeoutMs: 5000
log: { level: silent }
# 1 000 copies from one address: past 120 replays a minute the client would meet 429
# payment_failure_rate_exceeded; the replay guard is what is measured here.
rateLimits: { enabled: false }
store:
  redis: { url: "${redis.url}", commandTimeoutMs: ${REDIS_COMMAND_TIMEOUT_MS} }
ledger:
  postgres: { url: "${ledgerUrl}" }
  reconcileIntervalSeconds: 3600
routes:
  "GET /v1/items/:id": { amount: "${PRICE}" }
`;
  const start = async (name: string, settleTimeoutMs: number): Promise<RunningGateway> => {
    const loaded = loadConfigText(yaml(settleTimeoutMs), {}, `${name}.yaml`, {
      baseDir: dir.path,
    });
    if (!loaded.ok) throw new Error(`${name}: config invalid: ${JSON.stringify(loaded.problems)}`);
    return startGateway(loaded.config);
  };
  [a, b] = await Promise.all([
    start('fleet-a', SETTLE_TIMEOUT_A_MS),
    start('fleet-b', SETTLE_TIMEOUT_B_MS),
  ]);
  book = new PostgresLedger({ url: ledgerUrl });
  await book.open();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await book?.close().catch(() => undefined);
  await proxy?.close();
  await Promise.allSettled([
    facilitator?.stop(),
    upstream?.close(),
    redis?.remove(),
    postgres?.remove(),
  ]);
  dir.remove();
}, 30_000);

function upstreamCalls(path: string): number {
  return upstream.calls.filter((c) => c.url === path).length;
}

/** Sum of `x402_gateway_revenue_atomic_total` for payTo on one instance's /metrics. */
async function revenueOn(gw: RunningGateway): Promise<bigint> {
  return revenueIn(await (await fetch(`${gw.adminUrl}/metrics`)).text(), payTo);
}

/** `x402_gateway_store_errors_total{kind="timeout"}` on one instance's /metrics. */
async function storeErrorsOn(gw: RunningGateway): Promise<number> {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  const prefix = 'x402_gateway_store_errors_total{kind="timeout"} ';
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? 0 : Number(line.slice(prefix.length));
}

/** The book's record of a payment, by its nonce. */
async function recordOf(nonce: string): Promise<LedgerRecord | undefined> {
  const all = await book.list();
  return all.find((r) => r.nonce.toLowerCase() === nonce);
}

function nonceOf(payment: PaymentHeader): string {
  return authorizationOf(payment.payload).nonce.toLowerCase();
}

/** Record a 200: its PAYMENT-RESPONSE must be a success naming a transaction. */
function noteServed(r: RawResponse, nonce: string): string {
  const receipt = decodeHeader(r.headers['payment-response']);
  expect(receipt).toMatchObject({ success: true });
  const tx = receipt.transaction as string;
  expect(tx).toMatch(/^0x[0-9a-f]{64}$/);
  served.push({ nonce, tx });
  return tx;
}

describe('a fleet of two gateways on one Redis, one Postgres and one facilitator (devnet)', () => {
  it(`${COPIES} concurrent copies of one payment over both instances: served once, settled once, one transfer`, async () => {
    const devnet = suite.devnet;
    const payer = await newPayer(devnet, 10_000n);
    const path = '/v1/items/fleet-copies';
    const payment = await signFor(a.url, path, { account: payer.account });
    const nonce = nonceOf(payment);

    // Copy i goes to instance i % 2; each instance has at most IN_FLIGHT_PER_INSTANCE at once.
    const results: RawResponse[] = new Array<RawResponse>(COPIES);
    const started = performance.now();
    const lane = async (gw: RunningGateway, first: number): Promise<void> => {
      for (let i = first; i < COPIES; i += 2 * IN_FLIGHT_PER_INSTANCE) {
        results[i] = await payWith(gw.url, path, payment);
      }
    };
    const lanes: Array<Promise<void>> = [];
    for (let l = 0; l < IN_FLIGHT_PER_INSTANCE; l++) {
      lanes.push(lane(a, 2 * l), lane(b, 2 * l + 1));
    }
    await Promise.all(lanes);
    const ms = Math.round(performance.now() - started);

    const labels = results.map(label);
    const counts = tally(labels);
    const storeTimeouts = (await storeErrorsOn(a)) + (await storeErrorsOn(b));
    console.log(
      JSON.stringify({ case: 'copies', copies: COPIES, ms, statuses: counts, storeTimeouts }),
    );
    // The allowed set: exactly one 200; every other copy, whether it met the claim in flight (a
    // live lease in Redis), the settled claim, or the book, is 402 payment_already_used. The one
    // other answer the code has for a copy here is 503 replay_store_unavailable, when its claim
    // command missed its deadline (fail closed: nothing forwarded, nothing settled); each is a
    // counted store timeout. Nothing else: no 503 settlement_pending (no instance's recall index
    // holds this payment), no ledger 503, never a second 200.
    const { '200': ok, '402 payment_already_used': used, ...rest } = counts;
    expect(ok).toBe(1);
    const timedOut = rest['503 replay_store_unavailable'] ?? 0;
    expect(rest, JSON.stringify(counts)).toEqual(
      timedOut === 0 ? {} : { '503 replay_store_unavailable': timedOut },
    );
    expect(timedOut).toBeLessThanOrEqual(storeTimeouts);
    expect(used).toBe(COPIES - 1 - timedOut);
    const winner = results.find((r) => r.status === 200)!;
    const tx = noteServed(winner, nonce);
    for (const r of results.filter((x) => x.status === 503)) {
      expect(r.headers['retry-after']).toBe('1');
      expect(r.headers['payment-response']).toBeUndefined();
    }
    for (const r of results.filter((x) => x.status === 402)) {
      expect(decodeHeader(r.headers['payment-required']).error).toBe('payment_already_used');
      expect(r.headers['payment-response']).toBeUndefined();
      expect(r.body).not.toContain('"ok":true'); // the upstream's body never leaves
    }
    // Both instances answered copies, and refused some.
    const refusedBy = (parity: number): number =>
      results.filter((r, i) => i % 2 === parity && r.status === 402).length;
    expect(refusedBy(0)).toBeGreaterThan(0);
    expect(refusedBy(1)).toBeGreaterThan(0);

    expect(upstreamCalls(path)).toBe(1);
    expect(settles.get(nonce)).toEqual(['pass']); // one /settle, sent once
    const transfers = await transfersTo(devnet, payTo);
    expect(transfers.filter((t) => t.transactionHash === tx)).toHaveLength(1);
    expect(transfers).toHaveLength(1);
    expect(transfers[0]).toMatchObject({ from: payer.address, value: PRICE });

    const record = await vi.waitFor(
      async () => {
        const r = await recordOf(nonce);
        expect(r?.deliveredAt).toBeDefined();
        return r!;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(record).toMatchObject({ state: 'settled', transaction: tx, amount: String(PRICE) });
    expect((await revenueOn(a)) + (await revenueOn(b))).toBe(PRICE);

    // Later, on either instance: still used, nothing more moves.
    for (const gw of [a, b]) {
      const again = await payWith(gw.url, path, payment);
      expect(label(again)).toBe('402 payment_already_used');
    }
    expect(upstreamCalls(path)).toBe(1);
    expect(await transfersTo(devnet, payTo)).toHaveLength(1);
  }, 45_000);

  it("a settlement left pending on instance A is resumed and served once by the client's retry on instance B", async () => {
    const devnet = suite.devnet;
    const payer = await newPayer(devnet, 10_000n);
    const path = '/v1/items/fleet-handoff';
    const payment = await signFor(a.url, path, { account: payer.account });
    const nonce = nonceOf(payment);
    holdFirstSettle.add(nonce);
    const transfersBefore = (await transfersTo(devnet, payTo)).length;
    const [revenueA, revenueB] = [await revenueOn(a), await revenueOn(b)];

    // On A: the /settle is forwarded (the money moves), its answer held past A's deadline.
    const t0 = performance.now();
    const first = await payWith(a.url, path, payment);
    const tookMs = performance.now() - t0;
    expect(label(first), first.body).toBe('503 settlement_pending');
    expect(first.headers['retry-after']).toBeDefined();
    expect(first.body).not.toContain('"ok":true');
    expect(decodeHeader(first.headers['payment-response'])).toMatchObject({
      success: false,
      errorReason: 'settlement_pending',
    });
    expect(tookMs).toBeLessThan(SETTLE_TIMEOUT_A_MS + 1_500);
    expect(upstreamCalls(path)).toBe(1);
    expect(settles.get(nonce)).toEqual(['late-after']);

    // The money moved anyway (the devnet mines at once): one transfer, nothing counted yet.
    const landed = (await transfersTo(devnet, payTo)).slice(transfersBefore);
    expect(landed).toHaveLength(1);
    expect(landed[0]).toMatchObject({ from: payer.address, value: PRICE });
    const tx = landed[0]!.transactionHash;
    const pending = await recordOf(nonce);
    expect(pending).toMatchObject({ state: 'unknown', amount: String(PRICE), path });
    expect(pending!.deliveredAt).toBeUndefined();
    expect(await revenueOn(a)).toBe(revenueA);

    // The client's retry, same payment, on B: the pending claim is resumed from Redis, the record
    // from Postgres; the facilitator refuses the spent nonce, and B reads our transfer on chain.
    const retry = await payWith(b.url, path, payment);
    expect(label(retry), retry.body).toBe('200');
    expect(JSON.parse(retry.body)).toMatchObject({ ok: true, url: path });
    expect(noteServed(retry, nonce)).toBe(tx);
    expect(upstreamCalls(path)).toBe(2); // the upstream ran again for the served response
    expect(settles.get(nonce)).toEqual(['late-after', 'pass']); // resumed: settled, not afresh

    // One transfer; the row settled once, with the transfer, delivered; revenue counted once, by B.
    expect((await transfersTo(devnet, payTo)).slice(transfersBefore)).toHaveLength(1);
    // The attempt rows and the delivery are written behind the response: waited for, bounded.
    const record = await vi.waitFor(
      async () => {
        const r = await recordOf(nonce);
        expect(r?.deliveredAt).toBeDefined();
        return r!;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(record).toMatchObject({ state: 'settled', transaction: tx, redemptions: 0 });
    // Settled by B's request, not by a reconciler or an operator.
    expect(await book.resolutions(record.key)).toEqual([]);
    const attempts = await vi.waitFor(
      async () => {
        const rows = await book.attempts(record.key);
        expect(rows).toHaveLength(2);
        return rows;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(attempts).toMatchObject([
      { outcome: 'settlement_pending', status: 503, served: false, delivered: false },
      { outcome: 'paid', status: 200, served: true, delivered: true },
    ]);
    expect(await revenueOn(a)).toBe(revenueA);
    expect(await revenueOn(b)).toBe(revenueB + PRICE);

    // Served once: once B's delivery is in the book, a further copy on either instance is refused
    // without running the upstream (A's recall index still names this payment: A reads the record
    // and finds it delivered), before and after A's held answer finally arrives (to nobody). A copy
    // reaching A while B is still delivering: case 3.
    for (const gw of [a, b])
      expect(label(await payWith(gw.url, path, payment))).toBe('402 payment_already_used');
    await proxy.idle();
    for (const gw of [b, a])
      expect(label(await payWith(gw.url, path, payment))).toBe('402 payment_already_used');
    expect(upstreamCalls(path)).toBe(2);
    expect(settles.get(nonce)).toEqual(['late-after', 'pass']);
    expect((await transfersTo(devnet, payTo)).slice(transfersBefore)).toHaveLength(1);
    expect(await recordOf(nonce)).toMatchObject({ state: 'settled', redemptions: 0 });
    console.log(
      JSON.stringify({
        case: 'handoff',
        onA: label(first),
        onB: label(retry),
        settles: settles.get(nonce),
        msOnA: Math.round(tookMs),
      }),
    );
  }, 30_000);

  it("a copy on instance A, which left the settlement unknown, is not served while B streams that settlement's response", async () => {
    const devnet = suite.devnet;
    const payer = await newPayer(devnet, 10_000n);
    const path = '/v1/items/drip-fleet'; // the upstream sends 8 bytes, then the rest 2.5 s later
    const payment = await signFor(a.url, path, { account: payer.account });
    const nonce = nonceOf(payment);
    holdFirstSettle.add(nonce);

    const first = await payWith(a.url, path, payment);
    expect(label(first), first.body).toBe('503 settlement_pending');
    // A's recall index now names this payment. B's retry resumes and settles it, then streams.
    const onB = payWith(b.url, path, payment);
    await vi.waitFor(async () => expect((await recordOf(nonce))?.state).toBe('settled'), {
      timeout: 8_000,
      interval: 25,
    });
    // Mid-stream on B: A finds the record settled and undelivered, but B holds it fleet-wide.
    const copy = await payWith(a.url, path, payment);
    expect(label(copy), copy.body).toBe('503 settlement_pending');
    expect(copy.headers['retry-after']).toBeDefined();
    const retry = await onB;
    expect(label(retry), retry.body).toBe('200');
    const tx = noteServed(retry, nonce);
    await vi.waitFor(async () => expect((await recordOf(nonce))?.deliveredAt).toBeDefined(), {
      timeout: 5_000,
      interval: 50,
    });
    // Delivered: spent on both instances.
    for (const gw of [a, b])
      expect(label(await payWith(gw.url, path, payment))).toBe('402 payment_already_used');
    expect(upstreamCalls(path)).toBe(2); // A's first attempt and B's served one: never a third
    expect(await recordOf(nonce)).toMatchObject({
      state: 'settled',
      transaction: tx,
      redemptions: 0,
    });
    await proxy.idle();
  }, 30_000);

  it("a settlement A's reconciler resolved is served once by the client's retry on instance B", async () => {
    const devnet = suite.devnet;
    const payer = await newPayer(devnet, 10_000n);
    const path = '/v1/items/fleet-reconciled';
    const payment = await signFor(a.url, path, { account: payer.account });
    const nonce = nonceOf(payment);
    holdFirstSettle.add(nonce);
    const revenueA = await revenueOn(a);

    const first = await payWith(a.url, path, payment);
    expect(label(first), first.body).toBe('503 settlement_pending');
    await proxy.idle();
    // A's own reconciler reads the chain: the record is settled, the claim in Redis spent.
    const pass = await fetch(`${a.adminUrl}/ledger/reconcile`, { method: 'POST' });
    expect(pass.status).toBe(200);
    const settledRecord = await recordOf(nonce);
    expect(settledRecord).toMatchObject({ state: 'settled' });
    expect(settledRecord!.deliveredAt).toBeUndefined();
    expect(await revenueOn(a)).toBe(revenueA + PRICE);

    // B's recall index never heard of it: the shared store says spent, the shared book owes it.
    const retry = await payWith(b.url, path, payment);
    expect(label(retry), retry.body).toBe('200');
    expect(JSON.parse(retry.body)).toMatchObject({ ok: true, url: path });
    expect(noteServed(retry, nonce)).toBe(settledRecord!.transaction);
    await vi.waitFor(async () => expect((await recordOf(nonce))?.deliveredAt).toBeDefined(), {
      timeout: 5_000,
      interval: 50,
    });
    expect(await recordOf(nonce)).toMatchObject({ state: 'settled', redemptions: 1 });
    for (const gw of [b, a])
      expect(label(await payWith(gw.url, path, payment))).toBe('402 payment_already_used');
    expect(upstreamCalls(path)).toBe(2);
    expect(settles.get(nonce)).toEqual(['late-after']); // B settled nothing: a redemption
  }, 30_000);

  it('the books balance: transfers to payTo == the ledger paid total == served × price == revenue on both instances', async () => {
    const devnet = suite.devnet;
    await proxy.idle();
    const transfers = await transfersTo(devnet, payTo);
    const onChain = transfers.reduce((s, t) => s + t.value, 0n);
    expect(await balanceOf(devnet, payTo)).toBe(onChain);

    const totals = await book.revenue();
    const ledgerTotal = totals
      .filter((t) => t.payTo.toLowerCase() === payTo.toLowerCase())
      .reduce((s, t) => s + BigInt(t.amount), 0n);
    const paid = new Set<string>(PAID_STATES);
    const records = await book.list();
    const paidRecords = records.filter((r) => paid.has(r.state));
    expect(paidRecords.reduce((s, r) => s + BigInt(r.amount), 0n)).toBe(ledgerTotal);

    // Every served response named its own payment's transfer, and no transfer served twice.
    expect(new Set(served.map((s) => s.tx)).size).toBe(served.length);
    expect(new Set(served.map((s) => s.nonce)).size).toBe(served.length);
    expect(new Set(transfers.map((t) => t.transactionHash))).toEqual(
      new Set(served.map((s) => s.tx)),
    );
    const metrics = (await revenueOn(a)) + (await revenueOn(b));
    console.log(
      JSON.stringify({
        case: 'books',
        transfers: transfers.length,
        onChain: onChain.toString(),
        ledger: ledgerTotal.toString(),
        served: served.length,
        metrics: metrics.toString(),
        states: tally(records.map((r) => r.state)),
      }),
    );
    expect(transfers).toHaveLength(4);
    expect(onChain).toBe(ledgerTotal);
    expect(ledgerTotal).toBe(BigInt(served.length) * PRICE);
    expect(metrics).toBe(onChain);
    expect(records.every((r) => r.state !== 'settling' && r.state !== 'unknown')).toBe(true);
    for (const s of served) {
      const r = records.find((x) => x.nonce.toLowerCase() === s.nonce);
      expect(r).toMatchObject({ transaction: s.tx as Hex });
    }
  }, 20_000);
});
