/**
 * Issue 15 §1 and §4 on real parts: one gateway started through the CLI with `server.workers: 2`
 * (node:cluster: a primary and two worker processes sharing the paid port), one real Redis for the
 * claims, one real Postgres for the book, on a devnet, settling through the built-in facilitator
 * run once as its own process (`x402-gateway facilitator`) behind a fault-injecting proxy.
 *
 * 1. 1,000 concurrent copies of one payment, spread over both workers by the primary: one 200,
 *    every other copy 402 payment_already_used; one upstream call, one /settle, one transfer.
 * 2. A worker killed with SIGKILL while it holds paid requests whose settlements have been sent:
 *    the primary starts it again (workers_up back to 2, worker_restarts_total{reason="signal"}),
 *    the other worker keeps serving, and the reconciler resolves every record the dead worker
 *    held (settled from the chain); on chain, in the book and in the merged revenue series the
 *    same total.
 * 3. One scrape of the primary's admin listener shows both workers (in_flight summed, the book's
 *    unresolved counts not doubled), and /readyz names the workers.
 * Loopback only; every wait bounded; the whole process tree stopped in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PAID_STATES, PostgresLedger } from '../../../src/ledger/index.js';
import {
  account,
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
import { startGatewayProcess, type GatewayProcess } from '../../helpers/gateway-process.js';
import { payWith, signFor } from '../../helpers/pay.js';
import { authorizationOf } from '../../helpers/payments.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';
import type { RawResponse } from '../../helpers/raw-http.js';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { startTestUpstream, type TestUpstream } from '../../helpers/upstream.js';
import { answerLabel as label, revenueIn, tally } from '../../helpers/answers.js';

const PRICE = 1_000n;
const COPIES = 1_000;
const IN_FLIGHT = 100;
/** Settle answers of case 2 are held this long: the worker is killed meanwhile. */
const HELD_MS = 2_500;
const SETTLE_TIMEOUT_MS = 4_000;
const KILL_LOAD = 16;

const suite = useDevnet();
const dir = tempDir();
const payTo: Address = freshAddress();
let redis: RedisServer;
let postgres: PostgresServer;
let upstream: TestUpstream;
let facilitator: FacilitatorProcess;
let proxy: FaultyFacilitator;
let gateway: GatewayProcess;
let book: PostgresLedger;
const holdSettle = new Set<string>();
const settles = new Map<string, SettleFault[]>();

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
  const ledgerUrl = await postgres.createSchema('workers');
  proxy = await startFaultyFacilitator({
    target: facilitator.url,
    lateMs: HELD_MS,
    decide: ({ nonce }) => {
      const seen = settles.get(nonce ?? '') ?? [];
      const fault: SettleFault =
        nonce !== undefined && holdSettle.has(nonce) ? 'late-after' : 'pass';
      settles.set(nonce ?? '', [...seen, fault]);
      return fault;
    },
  });
  const config = join(dir.path, 'gateway.yaml');
  writeFileSync(
    config,
    `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdownTimeoutMs: 3000, workers: 2 }
facilitator: { url: ${proxy.url}, verifyTimeoutMs: 5000, settleTimeoutMs: ${SETTLE_TIMEOUT_MS} }
rpcUrls:
  "${devnet.network.caip2}": ${devnet.rpcUrl}
payment:
  network: ${devnet.network.v1Name}
  payTo: "${payTo}"
  maxTimeoutSeconds: 120
  asset: { address: "${devnet.usdc}", decimals: 6, name: USDC, version: "2" }
upstream: ${upstream.url}
log: { level: info }
# 1,000 copies from one loopback client are 999 failed payments: past the default failure limit.
rateLimits: { failuresPerMinute: { perClient: 1000000, perPayer: 1000000 } }
store:
  redis: { url: "${redis.url}", commandTimeoutMs: 1000 }
ledger:
  postgres: { url: "${ledgerUrl}" }
  reconcileIntervalSeconds: 3600
routes:
  "GET /v1/items/:id": { amount: "${PRICE}" }
`,
  );
  gateway = await startGatewayProcess(config, 60_000);
  book = new PostgresLedger({ url: ledgerUrl });
  await book.open();
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await book?.close().catch(() => undefined);
  await proxy?.close();
  await Promise.allSettled([
    facilitator?.stop(),
    upstream?.close(),
    redis?.remove(),
    postgres?.remove(),
  ]);
  dir.remove();
}, 60_000);

/** The worker processes of the gateway (children of the primary). */
function workerPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(gateway.child.pid)]).toString();
  return out
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
}

/** Workers (their index) that wrote an access-log line for `path`. */
function workersServing(path: string): Set<number> {
  const workers = new Set<number>();
  for (const line of gateway.stdout().split('\n')) {
    if (!line.startsWith('{') || !line.includes(`"path":"${path}"`)) continue;
    workers.add((JSON.parse(line) as { worker: number }).worker);
  }
  return workers;
}

async function metricsText(): Promise<string> {
  return (await fetch(`${gateway.adminUrl}/metrics`)).text();
}

function metric(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('one gateway, two node:cluster workers, Redis and Postgres (devnet)', () => {
  it('runs two workers behind the primary, whose admin listener speaks for both', async () => {
    expect(workerPids()).toHaveLength(2);
    const text = await metricsText();
    expect(metric(text, 'x402_gateway_workers_up')).toBe(2);
    expect(metric(text, 'x402_gateway_workers_configured')).toBe(2);
    expect(metric(text, 'x402_gateway_ledger_unresolved{state="unknown"}')).toBe(0);
    const ready = await fetch(`${gateway.adminUrl}/readyz?scope=paid`);
    const body = (await ready.json()) as {
      checks: Record<string, { ok: boolean; detail: string }>;
    };
    expect(ready.status, JSON.stringify(body)).toBe(200);
    expect(body.checks.workers).toEqual({
      ok: true,
      affects: 'all',
      detail: '2 of 2 workers serving',
    });
    expect(body.checks['replay store']?.ok).toBe(true);
  });

  it(`${COPIES} concurrent copies of one payment over both workers: one 200, one settlement, one transfer`, async () => {
    const devnet = suite.devnet;
    const payer = await newPayer(devnet, 10_000n);
    const path = '/v1/items/worker-copies';
    const payment = await signFor(gateway.url, path, { account: payer.account });
    const nonce = authorizationOf(payment.payload).nonce.toLowerCase();
    const results: RawResponse[] = [];
    let sent = 0;
    const lane = async (): Promise<void> => {
      while (sent < COPIES) {
        sent++;
        results.push(await payWith(gateway.url, path, payment));
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    const counts = tally(results.map(label));
    console.log(JSON.stringify({ case: 'worker-copies', statuses: counts }));
    expect(counts['200']).toBe(1);
    expect(counts['402 payment_already_used']).toBe(results.length - 1);
    expect(upstream.calls.filter((c) => c.url === path)).toHaveLength(1);
    expect(settles.get(nonce)).toEqual(['pass']);
    const transfers = await transfersTo(devnet, payTo);
    expect(transfers).toHaveLength(1);
    expect(transfers[0]).toMatchObject({ from: payer.address, value: PRICE });
    // Both workers answered copies (the primary shares connections out round-robin).
    await vi.waitFor(() => expect([...workersServing(path)].sort()).toEqual([1, 2]), {
      timeout: 5_000,
    });
  }, 60_000);

  it('a worker SIGKILLed with settlements in flight is restarted, and the reconciler resolves what it held', async () => {
    const devnet = suite.devnet;
    const before = await transfersTo(devnet, payTo);
    const payers = [];
    // One at a time: each is funded by a transaction from one minter account.
    for (let i = 0; i < KILL_LOAD; i++) payers.push(await newPayer(devnet, 10_000n));
    const payments = await Promise.all(
      payers.map((p, i) => signFor(gateway.url, `/v1/items/kill-${i}`, { account: p.account })),
    );
    for (const p of payments) holdSettle.add(authorizationOf(p.payload).nonce.toLowerCase());
    await metricsText(); // a scrape just before: the dead worker's counters stay in the sum
    const answers = payments.map((p, i) =>
      payWith(gateway.url, `/v1/items/kill-${i}`, p).catch((e: Error) => e),
    );
    // Every settle request has left (the money moves); their answers are held HELD_MS.
    await vi.waitFor(
      () =>
        expect(
          payments.filter((p) => settles.has(authorizationOf(p.payload).nonce.toLowerCase())),
        ).toHaveLength(KILL_LOAD),
      { timeout: 10_000, interval: 25 },
    );
    const [victim, survivor] = workerPids();
    process.kill(victim!, 'SIGKILL');
    const results = await Promise.all(answers);
    const counts = tally(results.map(label));
    console.log(JSON.stringify({ case: 'worker-kill', statuses: counts }));
    // The dead worker's clients lost their connection; the other's were served.
    expect(counts.error).toBeGreaterThan(0);
    expect(counts['200']).toBeGreaterThan(0);
    expect((counts.error ?? 0) + (counts['200'] ?? 0)).toBe(KILL_LOAD);

    // Restarted by the primary.
    await vi.waitFor(
      async () => {
        const text = await metricsText();
        expect(metric(text, 'x402_gateway_workers_up')).toBe(2);
        expect(metric(text, 'x402_gateway_worker_restarts_total{reason="signal"}')).toBe(1);
      },
      { timeout: 20_000, interval: 200 },
    );
    const pids = workerPids();
    expect(pids).toHaveLength(2);
    expect(pids).toContain(survivor);
    expect(pids).not.toContain(victim);

    // Every settle was sent, so every transfer landed; the dead worker's records stay `settling`
    // until the reconciler (past its grace) reads the chain.
    const landed = (await transfersTo(devnet, payTo)).slice(before.length);
    expect(landed).toHaveLength(KILL_LOAD);
    await vi.waitFor(
      async () => {
        await fetch(`${gateway.adminUrl}/ledger/reconcile`, { method: 'POST' });
        const open = (await book.list()).filter(
          (r) => r.state === 'settling' || r.state === 'unknown',
        );
        expect(open).toHaveLength(0);
      },
      { timeout: 30_000, interval: 1_000 },
    );
    const records = await book.list();
    const paid = new Set<string>(PAID_STATES);
    const killRecords = records.filter((r) => r.path.startsWith('/v1/items/kill-'));
    expect(killRecords).toHaveLength(KILL_LOAD);
    expect(killRecords.every((r) => paid.has(r.state))).toBe(true);
    // The dead worker's records (and only those) were moved out of `settling` by the reconciler.
    const resolutions = await Promise.all(killRecords.map((r) => book.resolutions(r.key)));
    const resolvedFromSettling = resolutions.filter((rs) =>
      rs.some((x) => x.by === 'reconciler' && x.from === 'settling' && x.to === 'settled'),
    );
    expect(resolvedFromSettling).toHaveLength(counts.error!);

    // One total on chain, in the book and in the one scrape of the whole process.
    const onChain = (await transfersTo(devnet, payTo)).reduce((s, t) => s + t.value, 0n);
    const inBook = records
      .filter((r) => paid.has(r.state))
      .reduce((s, r) => s + BigInt(r.amount), 0n);
    expect(inBook).toBe(onChain);
    await vi.waitFor(async () => expect(revenueIn(await metricsText(), payTo)).toBe(onChain), {
      timeout: 5_000,
      interval: 200,
    });
  }, 90_000);
});
