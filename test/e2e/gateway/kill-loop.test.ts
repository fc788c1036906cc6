/**
 * SIGKILL in a loop under paid load: one gateway process after another on ONE ledger file, each
 * killed at a random moment while concurrent clients pay (many kills land during settlements: a
 * write-ahead `settling` record is found in the file right after them). The clients behave as real
 * ones: every payment has a fresh nonce; after a broken connection or a 503 they retry with the same
 * payment until they get an answer. At the end, after a clean start whose reconciliation runs at
 * start-up, it proves:
 *
 * - every restart opened the ledger (each gateway started and listened);
 * - the SQLite file passes `PRAGMA integrity_check`;
 * - every payment a client got a 200 for is in the ledger, settled or confirmed, with the
 *   transaction its PAYMENT-RESPONSE named, or was served through a credit (docs/ledger.md §6.1:
 *   unsettled, naming its payer's previous paid payment, whose delivery mark a kill erased); no
 *   payment was charged that its client was not served;
 * - the chain's Transfer logs to payTo equal the ledger's settled + confirmed rows, by transaction
 *   and in sum, and so do the payee's balance and the revenue metric;
 * - no record stays `settling` or `unknown`: every write-ahead record was resolved.
 *
 * A real devnet (auto-mining), the built-in facilitator inside each gateway process (so a kill can
 * land between its broadcast and its answer), a real SQLite file; loopback only, bounded time. The
 * processes run a snapshot of src/ transpiled when the file starts (gateway-build.ts): a start
 * through tsx costs ~3× the CPU, and this file starts the gateway 21 times.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Address, Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  account,
  authorizationState,
  balanceOf,
  freshAddress,
  newPayer,
  SETTLER_INDEX,
  transfersTo,
  useDevnet,
  type Payer,
} from '../../helpers/devnet.js';
import { buildGatewaySnapshot, type GatewayBuild } from '../../helpers/gateway-build.js';
import { startGatewayProcess, type GatewayProcess } from '../../helpers/gateway-process.js';
import { payWith, signFor, type PaymentHeader } from '../../helpers/pay.js';
import { authorizationOf } from '../../helpers/payments.js';
import { decodeHeader, type RawResponse } from '../../helpers/raw-http.js';
import { readBook } from '../../helpers/read-book.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { startTestUpstream, type TestUpstream } from '../../helpers/upstream.js';

const PRICE = 1_000n;
/** SIGKILLs (each followed by a restart on the same file). KILL_LOOP_KILLS=N: a longer soak. */
const KILLS = Math.max(20, Number(process.env.KILL_LOOP_KILLS ?? '') || 20);
const CLIENTS = 6;
/**
 * A gateway's life under load, tied to the traffic rather than the clock (so a loaded machine, with
 * slow requests, still gets its kills where they matter), each bounded by LIFE_CAP_MS:
 * - even kills, at random: once the gateway forwarded a paid request (the upstream saw it), then
 *   0–LIFE_RANDOM_MS more, uniformly;
 * - odd kills, during a settlement: as soon as a write-ahead `settling` record is in the file (its
 *   /settle is being sent or waited for), then 0–LIFE_SETTLING_MS more.
 */
const LIFE_RANDOM_MS = 500;
const LIFE_SETTLING_MS = 10;
const LIFE_CAP_MS = 10_000;
/** After the last kill: bound on the clean start's drain of every open payment. */
const DRAIN_MS = 20_000;
/**
 * Bound on the kill loop (a start takes ~1.3 s of CPU: ~30 s in all on an idle 2-CPU machine):
 * past it the test fails with the loop's progress, before the test timeout would fail it blind.
 */
const LOOP_BUDGET_MS = 150_000 + (KILLS - 20) * 10_000;

const suite = useDevnet(); // auto-mining: a broadcast transfer lands at once
const dir = tempDir();
let upstream: TestUpstream | undefined;
let live: GatewayProcess | undefined;
let build: GatewayBuild | undefined;

beforeAll(() => {
  build = buildGatewaySnapshot();
});

afterAll(async () => {
  await live?.kill().catch(() => undefined);
  await upstream?.close();
  build?.remove();
  dir.remove();
});

function startGateway(config: string): Promise<GatewayProcess> {
  return startGatewayProcess(config, 30_000, { main: build!.main });
}

function writeConfig(payTo: Address, upstreamUrl: string): string {
  const devnet = suite.devnet;
  const path = join(dir.path, 'gateway.yaml');
  writeFileSync(
    path,
    `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdownTimeoutMs: 5000 }
facilitator:
  local:
    rpcUrl: ${devnet.rpcUrl}
    privateKey: "${account(devnet, SETTLER_INDEX).privateKey}"
    receiptTimeoutMs: 5000
    pollingIntervalMs: 50
  settleTimeoutMs: 10000
payment:
  network: ${devnet.network.v1Name}
  payTo: "${payTo}"
  maxTimeoutSeconds: 300
  asset: { address: "${devnet.usdc}", decimals: 6, name: USDC, version: "2" }
# A payment whose redemption a kill interrupts may be redeemed again: the limit is not tested here.
ledger: { maxRedemptions: 10 }
upstream: ${upstreamUrl}
log: { level: warn }
routes:
  "GET /v1/items/:id": { amount: "${PRICE}" }
`,
  );
  return path;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The gateway the clients talk to now (none between a kill and the next start). */
class Target {
  #gw: GatewayProcess | undefined;
  #generation = 0;
  #waiters: Array<() => void> = [];
  set(gw: GatewayProcess | undefined): void {
    this.#gw = gw;
    this.#generation++;
    for (const w of this.#waiters.splice(0)) w();
  }
  /** The live gateway of a generation after `after` (wait for the next start). */
  async next(after: number): Promise<{ gw: GatewayProcess; generation: number }> {
    while (this.#gw === undefined || this.#generation <= after) {
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return { gw: this.#gw, generation: this.#generation };
  }
}

interface Success {
  readonly key: string;
  readonly path: string;
  readonly payer: Address;
  readonly nonce: Hex;
  readonly transaction: string;
  /** PAYMENT-RESPONSE `success`. */
  readonly success: unknown;
}

interface Outcomes {
  readonly successes: Success[];
  /** Final answers other than 200 (none expected): `status reason path`. */
  readonly refusals: string[];
  /** Requests cut by a kill (the connection broke). */
  broken: number;
  /** 503 answers (settlement_pending, ledger_unavailable…), each retried. */
  retried: number;
}

function replayKey(devnet: typeof suite.devnet, payment: PaymentHeader): string {
  const { from, nonce } = authorizationOf(payment.payload);
  return `${devnet.chainId}:${devnet.usdc}:${from}:${nonce}`.toLowerCase();
}

/**
 * One client: pays for one path after another, each with a fresh payment, and retries the same
 * payment after a broken connection (on the next gateway) or a 503, until it gets a final answer.
 * Stops taking new payments once `stopping()` says so; its open payment is still finished.
 */
async function client(
  id: number,
  payer: Payer,
  target: Target,
  out: Outcomes,
  stopping: () => boolean,
): Promise<void> {
  const devnet = suite.devnet;
  for (let n = 0; !stopping(); n++) {
    const path = `/v1/items/c${id}-${n}`;
    let payment: PaymentHeader | undefined;
    for (let seen = -1; ;) {
      const { gw, generation } = await target.next(seen);
      let r: RawResponse;
      try {
        payment ??= await signFor(gw.url, path, { account: payer.account });
        r = await payWith(gw.url, path, payment);
      } catch {
        // The gateway died under the request (or before it): the same payment, on the next one.
        out.broken++;
        seen = generation;
        continue;
      }
      if (r.status === 503) {
        out.retried++;
        await sleep(100);
        seen = generation - 1; // the same gateway again, or the next
        continue;
      }
      if (r.status === 200) {
        const receipt = r.headers['payment-response'];
        const decoded = typeof receipt === 'string' ? decodeHeader(receipt) : {};
        out.successes.push({
          success: decoded.success,
          key: replayKey(devnet, payment),
          nonce: authorizationOf(payment.payload).nonce,
          path,
          payer: payer.address,
          transaction: String(decoded.transaction),
        });
      } else {
        out.refusals.push(`${r.status} ${r.body.slice(0, 200)} ${path}`);
      }
      break;
    }
  }
}

async function metric(adminUrl: string, name: string, labels = ''): Promise<bigint> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let sum = 0n;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(labels))
      sum += BigInt(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('SIGKILL in a loop under paid load', () => {
  it(
    `${KILLS} kills on one ledger file: nothing lost, nothing counted twice, everything resolved`,
    async () => {
      const started = Date.now();
      const devnet = suite.devnet;
      upstream = await startTestUpstream();
      const payTo = freshAddress();
      const config = writeConfig(payTo, upstream.url);
      const ledgerPath = join(dir.path, 'x402-ledger.sqlite');
      const payers: Payer[] = [];
      // One at a time: the devnet's faucet sends each mint with the next nonce of one account.
      for (let i = 0; i < CLIENTS; i++) payers.push(await newPayer(devnet, 10_000_000n));

      const target = new Target();
      const out: Outcomes = { successes: [], refusals: [], broken: 0, retried: 0 };
      let stop = false;
      const clients = payers.map((p, i) => client(i, p, target, out, () => stop));

      let starts = 0;
      let killsMidSettlement = 0;
      let maxStartMs = 0;
      let totalStartMs = 0;
      const progress: string[] = [];
      for (let kill = 0; kill < KILLS; kill++) {
        if (Date.now() - started > LOOP_BUDGET_MS) {
          throw new Error(`over ${LOOP_BUDGET_MS} ms after ${kill} kills:\n${progress.join('\n')}`);
        }
        const t0 = Date.now();
        live = await startGateway(config);
        const startMs = Date.now() - t0;
        maxStartMs = Math.max(maxStartMs, startMs);
        totalStartMs += startMs;
        starts++; // it listened: the ledger opened (and migrated, restored) after the last kill
        const forwarded = upstream.calls.length;
        const duringSettlement = kill % 2 === 1;
        target.set(live);
        const cap = Date.now() + LIFE_CAP_MS;
        if (duringSettlement) {
          const db = new Database(ledgerPath, { readonly: true });
          const settling = db.prepare("SELECT 1 FROM payments WHERE state = 'settling' LIMIT 1");
          while (settling.get() === undefined && Date.now() < cap) await sleep(2);
          db.close();
          await sleep(Math.random() * LIFE_SETTLING_MS);
        } else {
          while (upstream.calls.length === forwarded && Date.now() < cap) await sleep(5);
          await sleep(Math.random() * LIFE_RANDOM_MS);
        }
        target.set(undefined);
        await live.kill();
        live = undefined;
        // A write-ahead record whose end was never written: the kill landed during a settlement.
        const midSettlement = readBook(ledgerPath).some((r) => r.state === 'settling');
        if (midSettlement) killsMidSettlement++;
        progress.push(
          `kill ${kill} (${duringSettlement ? 'during a settlement' : 'at random'}): ` +
            `started in ${startMs} ms, killed ${Date.now() - t0} ms after spawn, ` +
            `${upstream.calls.length - forwarded} forwarded, ${out.successes.length} served, ` +
            `${out.broken} cut, mid-settlement ${midSettlement}`,
        );
      }

      // The clean start: its start-up reconciliation resolves what the chain shows; the clients
      // finish their open payments (each a resumed settlement, a redemption or a fresh one).
      stop = true;
      live = await startGateway(config);
      starts++;
      target.set(live);
      const drained = await Promise.race([
        Promise.all(clients).then(() => true),
        sleep(DRAIN_MS).then(() => false),
      ]);
      expect(drained, `clients still waiting after ${DRAIN_MS} ms:\n${live.stdout()}`).toBe(true);
      const finalGw = live;
      const revenue = await metric(
        finalGw.adminUrl,
        'x402_gateway_revenue_atomic_total',
        `pay_to="${payTo}"`,
      );
      const unresolvedGauge = await metric(finalGw.adminUrl, 'x402_gateway_ledger_unresolved');
      await finalGw.stop(); // graceful: the ledger flushes and closes
      live = undefined;

      // The file is sound.
      const db = new Database(ledgerPath, { readonly: true });
      const integrity = db.pragma('integrity_check', { simple: true });
      db.close();
      expect(integrity).toBe('ok');

      const records = readBook(ledgerPath);
      const byKey = new Map(records.map((r) => [r.key, r]));
      const paid = records.filter((r) => r.state === 'settled' || r.state === 'confirmed');
      const summary = {
        starts,
        kills: KILLS,
        killsMidSettlement,
        maxStartMs,
        meanStartMs: Math.round(totalStartMs / KILLS),
        successes: out.successes.length,
        credited: out.successes.filter((x) => !paid.some((r) => r.key === x.key)).length,
        broken: out.broken,
        retried: out.retried,
        states: Object.fromEntries(
          [...new Set(records.map((r) => r.state))].map((s) => [
            s,
            records.filter((r) => r.state === s).length,
          ]),
        ),
        seconds: (Date.now() - started) / 1000,
      };
      console.log('kill loop:', JSON.stringify(summary));

      expect(starts).toBe(KILLS + 1);
      expect(out.refusals).toEqual([]);
      // The load was real and the kills hit it: requests were cut, several during their
      // settlement (a write-ahead record left `settling` in the file).
      expect(out.successes.length).toBeGreaterThanOrEqual(2 * CLIENTS);
      expect(out.broken).toBeGreaterThanOrEqual(KILLS);
      expect(killsMidSettlement).toBeGreaterThanOrEqual(3);

      // Every write-ahead record was resolved; nothing moved to a state that would mean a loss.
      expect(records.filter((r) => r.state === 'settling' || r.state === 'unknown')).toEqual([]);
      expect(unresolvedGauge).toBe(0n);
      expect(
        records.filter((r) => !['settled', 'confirmed', 'released'].includes(r.state)),
      ).toEqual([]);

      // Every client-observed success is backed by a paid record that names the transaction its
      // PAYMENT-RESPONSE named:
      // - paid: its own record, settled or confirmed;
      // - credited (docs/ledger.md §6.1): the payer's previous payment on the same terms, which its
      //   client was served too but whose delivery mark a kill erased (§1: attempt rows are never
      //   awaited), so the book owed it a response. The new payment was not settled: its
      //   authorization is unused on chain (the payer was not charged twice), and its record is a
      //   `released` audit row (or absent: audit rows are never awaited either).
      const served = new Set(out.successes.map((s) => s.key));
      expect(served.size).toBe(out.successes.length); // one answer per payment
      const direct: Success[] = [];
      const credited: Success[] = [];
      for (const s of out.successes) {
        expect(s.success).toBe(true);
        const r = byKey.get(s.key);
        if (r !== undefined) expect(r.path).toBe(s.path);
        if (r !== undefined && r.state !== 'released') {
          expect(['settled', 'confirmed']).toContain(r.state);
          expect(r.transaction).toBe(s.transaction);
          direct.push(s);
          continue;
        }
        const earlier = paid.find((x) => x.transaction === s.transaction);
        expect(
          earlier,
          `${s.path} was served, no paid record names ${s.transaction}`,
        ).toBeDefined();
        expect(earlier).toMatchObject({ payer: s.payer.toLowerCase(), amount: String(PRICE) });
        expect(earlier!.redemptions).toBeGreaterThanOrEqual(1); // the credit was counted
        expect(served.has(earlier!.key)).toBe(true);
        expect(await authorizationState(devnet, s.payer, s.nonce)).toBe(false);
        credited.push(s);
      }
      // A kill never turns into a free response: a paid response whose delivery row a kill erased
      // is no credit at restart (payment/restore.ts provenUndelivered), so no new payment was
      // served through an earlier one here (every earlier one was served to its own client).
      expect(credited.map((c) => c.path)).toEqual([]);
      // …and every paid record was served to its own client: nobody paid for nothing. A released
      // record is a credited payment, nothing else.
      expect(new Set(paid.map((r) => r.key))).toEqual(new Set(direct.map((s) => s.key)));
      const creditedKeys = new Set(credited.map((s) => s.key));
      for (const r of records.filter((x) => x.state === 'released'))
        expect(creditedKeys.has(r.key), `released ${r.path} was not credited`).toBe(true);

      // The chain agrees with the book, transaction by transaction and in sum.
      const transfers = await transfersTo(devnet, payTo);
      const chainByTx = new Map(transfers.map((t) => [t.transactionHash.toLowerCase(), t]));
      expect(chainByTx.size).toBe(transfers.length); // one transfer per transaction
      expect(new Set(paid.map((r) => r.transaction!.toLowerCase()))).toEqual(
        new Set(chainByTx.keys()),
      );
      expect(paid.length).toBe(transfers.length);
      for (const r of paid) {
        const t = chainByTx.get(r.transaction!.toLowerCase())!;
        expect(t.from.toLowerCase()).toBe(r.payer);
        expect(t.value).toBe(BigInt(r.amount));
      }
      const bookSum = paid.reduce((a, r) => a + BigInt(r.amount), 0n);
      const chainSum = transfers.reduce((a, t) => a + t.value, 0n);
      expect(bookSum).toBe(chainSum);
      expect(bookSum).toBe(PRICE * BigInt(direct.length));
      expect(await balanceOf(devnet, payTo)).toBe(bookSum);
      expect(revenue).toBe(bookSum); // counted once each, across every process
    },
    LOOP_BUDGET_MS + 60_000,
  );
});
