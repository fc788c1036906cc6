/**
 * Issue 15 §4: Redis killed in the middle of paid load, then restarted, on real parts. One gateway
 * (in-process) keeps its replay claims in a real redis-server (`store.redis`, no AOF: the restart
 * comes back empty) and its book in SQLite, on a devnet, settling through the built-in facilitator
 * in its own process (which really broadcasts). Eight lanes, each with its own funded payer, send
 * a steady paid load of distinct payments (each request its own path, so every upstream call maps
 * to one payment), and one lane free requests, for about 9 s; after ~3 s redis-server gets SIGKILL,
 * ~2 s later it starts again on the same port with nothing in memory.
 *
 * What must hold:
 * - no request sent while Redis was down reaches the priced upstream route (it could not have
 *   claimed); a payment answered 503 reached the upstream only if it was in flight at the kill
 *   (claimed before it, refused at `settling`, its response withheld);
 * - paid answers are 200 or 503 `replay_store_unavailable` (Retry-After: 1) and nothing else; each
 *   503 comes within the command deadline plus slack; free requests are 200 throughout;
 * - `/readyz?scope=paid` is 503 naming the replay store during the outage and 200 after;
 *   `x402_gateway_store_errors_total{kind="connection"|"timeout"}` rose;
 * - paid 200s resume after the restart, without restarting the gateway, within a bound;
 * - every payment refused with 503 pays on its retry afterwards; every payment served before is
 *   refused on its replay to the empty Redis (402 payment_already_used: the chain and the book
 *   remember), and does not reach the upstream again;
 * - no double settlement: after a reconcile pass, transfers on chain == served paid responses (one
 *   distinct transaction each) == the book's paid records == revenue on /metrics.
 */
import { join } from 'node:path';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfigText } from '../../../src/config/index.js';
import { PAID_STATES, SqliteBook } from '../../../src/ledger/index.js';
import { startGateway, type RunningGateway } from '../../../src/server.js';
import {
  account,
  freshAddress,
  newPayer,
  SETTLER_INDEX,
  transfersTo,
  useDevnet,
  type Payer,
} from '../../helpers/devnet.js';
import {
  startFacilitatorProcess,
  type FacilitatorProcess,
} from '../../helpers/facilitator-process.js';
import { payWith, signFor, type PaymentHeader } from '../../helpers/pay.js';
import { authorizationOf } from '../../helpers/payments.js';
import { decodeHeader, rawRequest, type RawResponse } from '../../helpers/raw-http.js';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { startTestUpstream, type TestUpstream } from '../../helpers/upstream.js';
import { answerLabel as label, tally } from '../../helpers/answers.js';

const PRICE = 1_000n;
const LANES = 8;
/** Payments parked in the upstream across the kill (their own payer: payers[LANES]). */
const STRADDLING = 3;
/** The load before the kill, with Redis down, and after the restart, ms. */
const BEFORE_MS = 3_000;
const OUTAGE_MS = 2_000;
const AFTER_MS = 3_500;
/**
 * The gateway, the nine lanes and the pollers share this process's event loop on a busy 2-core
 * machine: a deadline of the default 150 ms would measure that loop, not Redis.
 */
const COMMAND_TIMEOUT_MS = 500;
/** A 503 for the store must come within the command deadline plus this. */
const SLACK_MS = 1_500;
/** Paid 200s must be back this long after Redis answers again (reconnect backoff is ≤ 2.1 s). */
const RECOVERY_MS = 5_000;
/** Pause of a lane after a 503, as a client honouring a (shortened) Retry-After would. */
const BACKOFF_MS = 200;

const suite = useDevnet();
const dir = tempDir();
const payTo: Address = freshAddress();
let redis: RedisServer;
let upstream: TestUpstream;
let facilitator: FacilitatorProcess;
let gw: RunningGateway;
const payers: Payer[] = [];

beforeAll(async () => {
  const devnet = suite.devnet;
  [redis, upstream, facilitator] = await Promise.all([
    startRedis(),
    startTestUpstream(),
    startFacilitatorProcess({
      rpcUrl: devnet.rpcUrl,
      privateKey: account(devnet, SETTLER_INDEX).privateKey,
      receiptTimeoutMs: 10_000,
    }),
  ]);
  // One at a time: funding in parallel races the funder's nonce.
  for (let i = 0; i <= LANES; i++) payers.push(await newPayer(devnet, PRICE * 1_000n));
  const yaml = `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdownTimeoutMs: 2000 }
facilitator:
  url: ${facilitator.url}
  verifyTimeoutMs: 5000
  settleTimeoutMs: 5000
rpcUrls:
  "${devnet.network.caip2}": ${devnet.rpcUrl}
payment:
  network: ${devnet.network.v1Name}
  payTo: "${payTo}"
  maxTimeoutSeconds: 120
  asset: { address: "${devnet.usdc}", decimals: 6, name: USDC, version: "2" }
upstream: ${upstream.url}
upstreamTimeoutMs: 5000
unpriced: forward
log: { level: silent }
# One loopback client signs and sends hundreds of payments, many refused (503) by design.
rateLimits:
  challengesPerSecond: { perClient: 1000000, burst: 1000000 }
  failuresPerMinute: { perClient: 1000000, perPayer: 1000000 }
store:
  redis: { url: "${redis.url}", commandTimeoutMs: ${COMMAND_TIMEOUT_MS} }
ledger:
  sqlite: { path: "${join(dir.path, 'x402-ledger.sqlite')}" }
  reconcileIntervalSeconds: 3600
routes:
  "GET /v1/items/:id": { amount: "${PRICE}" }
`;
  const loaded = loadConfigText(yaml, {}, 'redis-outage.yaml', { baseDir: dir.path });
  if (!loaded.ok) throw new Error(`config invalid: ${JSON.stringify(loaded.problems)}`);
  gw = await startGateway(loaded.config);
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await Promise.allSettled([facilitator?.stop(), upstream?.close(), redis?.remove()]);
  dir.remove();
}, 30_000);

type Phase = 'before' | 'outage' | 'after';

interface Sent {
  readonly path: string;
  readonly payment: PaymentHeader;
  readonly nonce: string;
  /** performance.now() when sent and answered. */
  readonly sentAt: number;
  readonly doneAt: number;
  readonly response: RawResponse;
  readonly label: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function metricsText(): Promise<string> {
  return (await fetch(`${gw.adminUrl}/metrics`)).text();
}

function series(text: string, prefix: string): bigint {
  let sum = 0n;
  for (const line of text.split('\n'))
    if (line.startsWith(prefix)) sum += BigInt(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** Run `fn` over `items`, LANES at a time; results in order. */
async function inLanes<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: LANES }, lane));
  return out;
}

const upstreamCallsOf = (path: string): number =>
  upstream.calls.filter((c) => c.url === path).length;

describe('Redis killed under paid load, then restarted empty (devnet, one gateway)', () => {
  it('nothing reaches the priced upstream without a claim, nothing settles twice, service resumes by itself', async () => {
    const devnet = suite.devnet;
    const sent: Sent[] = [];
    const free: Array<{ at: number; status: number }> = [];
    const ready: Array<{ at: number; status: number; body: string }> = [];
    let stop = false;

    const paidLane = async (lane: number): Promise<void> => {
      const payer = payers[lane]!;
      for (let seq = 0; !stop; seq++) {
        const path = `/v1/items/outage-${lane}-${seq}`;
        const payment = await signFor(gw.url, path, { account: payer.account });
        const sentAt = performance.now();
        const response = await payWith(gw.url, path, payment);
        const doneAt = performance.now();
        const l = label(response);
        sent.push({
          path,
          payment,
          nonce: authorizationOf(payment.payload).nonce.toLowerCase(),
          sentAt,
          doneAt,
          response,
          label: l,
        });
        if (response.status !== 200) await sleep(BACKOFF_MS);
      }
    };
    const freeLane = async (): Promise<void> => {
      for (let seq = 0; !stop; seq++) {
        const r = await rawRequest(gw.url, { path: `/v1/health?n=${seq}` });
        free.push({ at: performance.now(), status: r.status });
        await sleep(20);
      }
    };
    const readyLane = async (): Promise<void> => {
      while (!stop) {
        const r = await fetch(`${gw.adminUrl}/readyz?scope=paid`);
        ready.push({ at: performance.now(), status: r.status, body: await r.text() });
        await sleep(100);
      }
    };

    const tStart = performance.now();
    const transfersBefore = (await transfersTo(devnet, payTo)).length;
    const errorsBefore = series(await metricsText(), 'x402_gateway_store_errors_total{');
    const t0 = performance.now();
    const lanes = [
      ...Array.from({ length: LANES }, (_, i) => paidLane(i)),
      freeLane(),
      readyLane(),
    ];
    await sleep(BEFORE_MS);
    // Payments whose claim is taken before the kill and whose upstream answers after it: parked in
    // the upstream (`/held`) until Redis is dead, they meet `settling` with no store to confirm it.
    const straddlePayer = payers[LANES]!;
    const straddlePaths = Array.from({ length: STRADDLING }, (_, i) => `/v1/items/held-${i}`);
    const straddlePayments = await Promise.all(
      straddlePaths.map((path) => signFor(gw.url, path, { account: straddlePayer.account })),
    );
    const straddling = straddlePaths.map((path, i) => payWith(gw.url, path, straddlePayments[i]!));
    await vi.waitFor(
      () => expect(straddlePaths.every((path) => upstreamCallsOf(path) === 1)).toBe(true),
      { timeout: 5_000, interval: 5 },
    );
    const killAt = performance.now();
    await redis.kill();
    const killedAt = performance.now(); // the server has exited: no claim can succeed from here
    upstream.releaseHeld();
    const straddled = await Promise.all(straddling);
    await sleep(OUTAGE_MS);
    // Calls the upstream received before Redis could answer again.
    const callsBeforeRestart = upstream.calls.slice();
    const restartAt = performance.now();
    await redis.start();
    const upAt = performance.now(); // PING answers
    await sleep(AFTER_MS);
    stop = true;
    await Promise.all(lanes);
    const endAt = performance.now();

    const phaseOf = (s: Sent): Phase =>
      s.sentAt < killAt ? 'before' : s.sentAt < restartAt ? 'outage' : 'after';
    const byPhase: Record<Phase, Record<string, number>> = {
      before: tally(sent.filter((s) => phaseOf(s) === 'before').map((s) => s.label)),
      outage: tally(sent.filter((s) => phaseOf(s) === 'outage').map((s) => s.label)),
      after: tally(sent.filter((s) => phaseOf(s) === 'after').map((s) => s.label)),
    };
    const firstOkAfter = sent
      .filter((s) => s.sentAt >= upAt && s.label === '200')
      .reduce((m, s) => Math.min(m, s.doneAt), Infinity);
    const slowest503 = sent
      .filter((s) => s.response.status === 503)
      .reduce((m, s) => Math.max(m, s.doneAt - s.sentAt), 0);

    // The allowed answers: served, or refused because the store could not answer (before
    // anything was verified or forwarded, or at `settling`: never settled). Never a 402 (no payment
    // was presented twice), never settlement_pending (no settle outcome is ever in doubt here).
    for (const s of sent) expect(['200', '503 replay_store_unavailable']).toContain(s.label);
    for (const s of sent.filter((x) => x.response.status === 503)) {
      expect(s.response.headers['retry-after']).toBe('1');
      expect(s.response.headers['payment-response']).toBeUndefined();
      expect(s.response.body).not.toContain('"ok":true'); // the upstream's body never leaves
    }
    expect(slowest503).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
    // Load before and after: paid 200s; while Redis is dead, none sent then is served.
    expect(byPhase.before['200'] ?? 0).toBeGreaterThanOrEqual(LANES);
    expect(byPhase.outage['503 replay_store_unavailable'] ?? 0).toBeGreaterThan(LANES);
    expect(
      sent.filter((s) => s.sentAt >= killedAt && s.doneAt <= restartAt && s.label === '200'),
    ).toEqual([]);
    // Service resumes without restarting the gateway.
    expect(firstOkAfter - upAt).toBeLessThan(RECOVERY_MS);
    expect(byPhase.after['200'] ?? 0).toBeGreaterThanOrEqual(LANES);

    // Zero requests reach the priced route without a claim. Sent after Redis died and received by
    // the upstream before it was back: that request cannot have claimed.
    const byPath = new Map(sent.map((s) => [s.path, s]));
    for (const call of callsBeforeRestart) {
      const s = byPath.get(call.url);
      if (s === undefined) continue; // a free request, or a straddling one (sent before the kill)
      expect(s.sentAt < killedAt, `${call.url} reached the upstream while Redis was down`).toBe(
        true,
      );
    }
    // A 503 reached the upstream only when it was in flight at the kill (claimed before); a 200
    // reached it once.
    const refusedAfterUpstream = sent.filter(
      (s) => s.response.status === 503 && upstreamCallsOf(s.path) > 0,
    );
    for (const s of refusedAfterUpstream) expect(s.sentAt).toBeLessThan(killedAt);
    expect(refusedAfterUpstream.length).toBeLessThanOrEqual(LANES);
    for (const s of sent) {
      const expected = s.label === '200' || refusedAfterUpstream.includes(s) ? 1 : 0;
      expect(upstreamCallsOf(s.path), s.path).toBe(expected);
    }

    // Free requests: served throughout, outage included.
    expect(free.filter((f) => f.status !== 200)).toEqual([]);
    expect(free.filter((f) => f.at > killedAt && f.at < restartAt).length).toBeGreaterThan(10);

    // Readiness: 503 naming the replay store while Redis was down, 200 again after.
    const duringOutage = ready.filter((r) => r.at > killedAt + 200 && r.at < restartAt);
    expect(duringOutage.length).toBeGreaterThan(3);
    for (const r of duringOutage) {
      expect(r.status).toBe(503);
      const body = JSON.parse(r.body) as {
        paid: { ok: boolean; reasons: string[] };
        checks: Record<string, { ok: boolean; affects: string }>;
      };
      expect(body.paid.ok).toBe(false);
      expect(body.paid.reasons.join('\n')).toMatch(/replay store: redis at /);
      expect(body.checks['replay store']).toMatchObject({ ok: false, affects: 'paid' });
    }
    await vi.waitFor(
      async () => expect((await fetch(`${gw.adminUrl}/readyz?scope=paid`)).status).toBe(200),
      { timeout: RECOVERY_MS, interval: 100 },
    );
    const metrics = await metricsText();
    const storeErrors =
      series(metrics, 'x402_gateway_store_errors_total{kind="connection"}') +
      series(metrics, 'x402_gateway_store_errors_total{kind="timeout"}');
    expect(storeErrors).toBeGreaterThan(errorsBefore);

    // The new Redis holds a claim for every payment served after it came back.
    const keys = await redis.command('KEYS', 'x402:replay:*');
    for (const s of sent.filter((x) => x.sentAt >= upAt && x.label === '200'))
      expect(keys).toContain(s.nonce);

    // The client's retries. A payment refused with 503 was never charged: it pays now. A payment
    // served before the outage meets an empty Redis: the chain and the book refuse it, the upstream
    // never sees it again.
    const refused = sent.filter((x) => x.response.status === 503);
    const retries = await inLanes(refused, async (s) => {
      const r = await payWith(gw.url, s.path, s.payment);
      return { ...s, response: r, label: label(r), sentAt: performance.now() };
    });
    for (const r of retries) expect(r.label, r.response.body).toBe('200');
    sent.push(...retries);
    const servedBefore = sent.filter((x) => x.label === '200' && x.sentAt < killAt);
    const replays = await inLanes(servedBefore, async (s) => {
      const r = await payWith(gw.url, s.path, s.payment);
      return { path: s.path, label: label(r) };
    });
    for (const r of replays) {
      // Refused by the book (payment_already_used) or, where nothing here remembers it, by the
      // facilitator's verify, which reads the spent nonce on chain: either way never forwarded.
      expect(['402 payment_already_used', '402 invalid_exact_evm_nonce_already_used']).toContain(
        r.label,
      );
      expect(upstreamCallsOf(r.path)).toBe(1);
    }

    // The straddling payments: claimed, forwarded, then their claim could not be confirmed before
    // the settle request. Never settled, the upstream's body withheld; their retry pays once.
    for (const r of straddled) {
      expect(label(r), r.body).toBe('503 replay_store_unavailable');
      expect(r.headers['retry-after']).toBe('1');
      expect(r.headers['payment-response']).toBeUndefined();
      expect(r.body).not.toContain('"ok":true');
    }
    expect(
      (await transfersTo(devnet, payTo)).filter((t) => t.from === straddlePayer.address),
    ).toEqual([]);
    const straddleRetries = straddlePaths.map((path, i) =>
      payWith(gw.url, path, straddlePayments[i]!),
    );
    await vi.waitFor(
      () => expect(straddlePaths.every((path) => upstreamCallsOf(path) === 2)).toBe(true),
      { timeout: 5_000, interval: 5 },
    );
    upstream.releaseHeld();
    for (const [i, r] of (await Promise.all(straddleRetries)).entries()) {
      expect(label(r), r.body).toBe('200');
      const payment = straddlePayments[i]!;
      const nonce = authorizationOf(payment.payload).nonce.toLowerCase();
      const at = performance.now();
      sent.push({
        path: straddlePaths[i]!,
        payment,
        nonce,
        sentAt: at,
        doneAt: at,
        response: r,
        label: '200',
      });
    }

    // No double settlement. A reconcile pass first (nothing should be left in doubt).
    const pass = await fetch(`${gw.adminUrl}/ledger/reconcile`, { method: 'POST' });
    expect(pass.status).toBe(200);
    const served = sent.filter((s) => s.label === '200');
    const txs = served.map((s) => {
      const receipt = decodeHeader(s.response.headers['payment-response']);
      expect(receipt).toMatchObject({ success: true });
      return receipt.transaction as string;
    });
    expect(new Set(txs).size).toBe(served.length);
    expect(new Set(served.map((s) => s.nonce)).size).toBe(served.length);
    const transfers = (await transfersTo(devnet, payTo)).slice(transfersBefore);
    expect(new Set(transfers.map((t) => t.transactionHash))).toEqual(new Set(txs));
    expect(transfers.every((t) => t.value === PRICE)).toBe(true);
    const book = new SqliteBook(join(dir.path, 'x402-ledger.sqlite'), { readonly: true });
    const records = book.list();
    book.close();
    const paid = new Set<string>(PAID_STATES);
    const paidRecords = records.filter((r) => paid.has(r.state));
    expect(paidRecords).toHaveLength(served.length);
    expect(records.filter((r) => r.state === 'settling' || r.state === 'unknown')).toEqual([]);
    const revenue = series(await metricsText(), `x402_gateway_revenue_atomic_total{`);
    expect(revenue).toBe(BigInt(transfers.length) * PRICE);

    console.log(
      JSON.stringify({
        case: 'redis-outage',
        ms: Math.round(endAt - t0),
        checksMs: Math.round(performance.now() - endAt),
        setupToLoadMs: Math.round(t0 - tStart),
        phases: byPhase,
        retried: tally(retries.map((r) => r.label)),
        replayed: tally(replays.map((r) => r.label)),
        refusedAfterUpstream: refusedAfterUpstream.length,
        straddled: tally(straddled.map(label)),
        free: free.length,
        recoveryMs: Math.round(firstOkAfter - upAt),
        restartMs: Math.round(upAt - restartAt),
        slowest503Ms: Math.round(slowest503),
        storeErrors: String(storeErrors - errorsBefore),
        transfers: transfers.length,
        ledgerPaid: paidRecords.length,
        served: served.length,
        records: tally(records.map((r) => r.state)),
      }),
    );
  }, 60_000);
});
