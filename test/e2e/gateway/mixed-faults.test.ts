/**
 * The books balance under faults. A mixed run of 240 paid requests from 12 concurrent clients (12
 * payers whose payments overlap; each payment signed for its own path), the fault of every attempt
 * drawn from a seeded PRNG: upstream 500s; facilitator 500s before the broadcast, 500s and garbage
 * after it (money moved, answer lost), answers held past the gateway's settle deadline (after the
 * broadcast, or before it, the money then moving after the gateway gave up); clients leaving while
 * the upstream works, while their settlement is in flight, and mid-body. Half-way, the gateway is
 * SIGKILLed while a /settle it sent is in flight (that transfer lands while it is down) and
 * restarted on the same SQLite ledger. The facilitator is the built-in one over HTTP on a real
 * devnet, behind a fault-injecting proxy (test/helpers/faulty-facilitator.ts); the gateway reads
 * the chain through `rpcUrls` and reconciles every second.
 *
 * The rules under test: every paid request is served or not charged; a payment buys exactly one
 * served response. A client retries once, with the same payment, after a 503, after leaving, or
 * after its connection broke (the crash); an upstream 500 charges nothing and is final. A payer's
 * new payment may be served through an earlier settlement of theirs that never delivered (a
 * credit, docs/ledger.md §6.1): its 2xx names that settlement, and its own authorization moves
 * nothing. What the rules imply for a payment whose client left (or lost the answer) and whose one
 * retry was not served either (it left again, met an upstream 500 on its redemption, or got 503
 * once more): if its money moved and no credit used it, it is charged and not yet served, so it
 * must still be redeemable: its record is paid, never delivered, with redemptions left, and one
 * more retry of the same payment is served without a second transfer. So at the end, exactly:
 *
 * - every transfer to payTo is one payment's (one AuthorizationUsed each, none twice) and its
 *   ledger record is paid (confirmed by then; nothing disputed, nothing left `settling`); no
 *   record is paid without its transfer; a record left `unknown` has its nonce unused on chain;
 * - every whole 2xx (body received whole: leaving mid-body is not being served) names, in its
 *   PAYMENT-RESPONSE, a transfer of its payer's: its own payment's, or a credit's (then its own
 *   payment moved nothing). No 2xx without a transfer;
 * - no transfer is named by two whole 2xx, and every transfer is named by one: during the run, or,
 *   for the charged and unserved ones above, on that one more retry (redeemed: no new transfer);
 * - on-chain total == the ledger's paid total == revenue on the restarted gateway's /metrics ==
 *   (distinct payments that got a whole 2xx) × price;
 * - a charged payment offered again is refused (402 payment_already_used).
 *
 * One exception, documented (docs/ledger.md §13): a response delivered by the killed gateway in
 * its last moments, whose `delivered_at` (written with the unawaited attempt row) died with the
 * process, leaves its settlement undelivered in the book; after the restart it may serve once more
 * when its payment's own retry is redeemed (never as a credit for the payer's next payment: at
 * start-up a credit needs the book's proof that no response went out, payment/restore.ts). Only a settlement whose first whole 2xx came within 250 ms before the SIGKILL may; such
 * a second response is counted apart (not one more price) and reported.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { parseAbiItem, type Address, type Hex } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { PAID_STATES, SqliteBook, type LedgerRecord } from '../../../src/ledger/index.js';
import {
  authorizationState,
  freshAddress,
  newPayer,
  publicClient,
  useDevnet,
  type Payer,
} from '../../helpers/devnet.js';
import {
  startFaultyFacilitator,
  type FaultyFacilitator,
  type SettleDecision,
  type SettleFault,
} from '../../helpers/faulty-facilitator.js';
import { startFaultyUpstream, type FaultyUpstream } from '../../helpers/faulty-upstream.js';
import { startGatewayProcess, type GatewayProcess } from '../../helpers/gateway-process.js';
import { signFor, type PaymentHeader } from '../../helpers/pay.js';
import { authorizationOf } from '../../helpers/payments.js';
import { tempDir } from '../../helpers/temp-dir.js';

const PRICE = 1_000n;
const PAYMENTS = 240;
const LANES = 12;
/** The first clean /settle once this many payments have started triggers the SIGKILL. */
const KILL_AT = PAYMENTS / 2;
const SETTLE_TIMEOUT_MS = 1_500;
/** How long a `late-*` facilitator fault holds: past the gateway's settle deadline. */
const LATE_MS = SETTLE_TIMEOUT_MS + 500;
const SEED = 0x402_f00d;
const MAX_REDEMPTIONS = 3;

type Fault =
  | 'none'
  | 'upstream-500'
  | 'settle-fail-before'
  | 'settle-fail-after'
  | 'settle-garbage-after'
  | 'settle-late-after'
  | 'settle-late-before'
  | 'leave-in-upstream'
  | 'leave-in-settle'
  | 'leave-mid-body';

/** Weights of a payment's first attempt, and of its one retry. */
const FIRST: ReadonlyArray<readonly [Fault, number]> = [
  ['none', 40],
  ['upstream-500', 7],
  ['settle-fail-before', 8],
  ['settle-fail-after', 8],
  ['settle-garbage-after', 6],
  ['settle-late-after', 5],
  ['settle-late-before', 5],
  ['leave-in-upstream', 7],
  ['leave-in-settle', 7],
  ['leave-mid-body', 7],
];
const RETRY: ReadonlyArray<readonly [Fault, number]> = [
  ['none', 70],
  ['upstream-500', 4],
  ['settle-fail-before', 4],
  ['settle-fail-after', 4],
  ['settle-garbage-after', 3],
  ['settle-late-after', 3],
  ['settle-late-before', 3],
  ['leave-in-upstream', 3],
  ['leave-in-settle', 3],
  ['leave-mid-body', 3],
];

const SETTLE_FAULT: Partial<Record<Fault, SettleFault>> = {
  'settle-fail-before': 'fail-before',
  'settle-fail-after': 'fail-after',
  'settle-garbage-after': 'garbage-after',
  'settle-late-after': 'late-after',
  'settle-late-before': 'late-before',
};

/** mulberry32: a small seeded PRNG, so the fault plan is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick(rand: () => number, table: ReadonlyArray<readonly [Fault, number]>): Fault {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let x = rand() * total;
  for (const [fault, w] of table) {
    x -= w;
    if (x < 0) return fault;
  }
  return table[0]![0];
}

/** What one attempt got, from the client's side. */
type Result =
  /** A 2xx, body received whole. */
  | { readonly kind: 'served'; readonly status: number; readonly tx: string | undefined }
  /** Any other status, body received whole. */
  | { readonly kind: 'answered'; readonly status: number; readonly reason: string | undefined }
  /** The client left on purpose (the fault asked it to). */
  | { readonly kind: 'left' }
  /** No whole answer, not the client's doing (the gateway died, or the attempt timed out). */
  | { readonly kind: 'broken'; readonly detail: string };

type Attempt = Result & {
  readonly fault: Fault;
  /** Which gateway process answered (1 before the SIGKILL, 2 after). */
  readonly generation: number;
  /** performance.now() when the attempt ended. */
  readonly at: number;
};

interface Plan {
  readonly index: number;
  readonly path: string;
  readonly faults: readonly [Fault, Fault];
  payer?: Payer;
  payment?: PaymentHeader;
  nonce?: string;
  readonly attempts: Attempt[];
}

const PAYMENT_RESPONSE = 'payment-response';

/** One paid GET that the caller can make leave at any time (`leave`), or on its first body byte. */
function send(
  base: string,
  path: string,
  payment: PaymentHeader,
  headers: Record<string, string>,
  leaveOnBody: boolean,
): { readonly done: Promise<Result>; leave(): void } {
  const url = new URL(base);
  let left = false;
  let settle: (r: Result) => void = () => undefined;
  const done = new Promise<Result>((resolve) => {
    let finished = false;
    settle = (r) => {
      if (finished) return;
      finished = true;
      resolve(r);
    };
  });
  const gone = (detail: string): void =>
    settle(left ? { kind: 'left' } : { kind: 'broken', detail });
  const req = http.request(
    {
      host: url.hostname,
      port: url.port,
      method: 'GET',
      path,
      headers: { [payment.name]: payment.value, ...headers },
      agent: false,
      timeout: 20_000,
    },
    (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (leaveOnBody && status < 300 && !left) {
          left = true;
          req.destroy();
        }
      });
      res.on('end', () => {
        if (!res.complete) return gone('incomplete body');
        const header = res.headers[PAYMENT_RESPONSE];
        const receipt =
          typeof header === 'string'
            ? (JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as {
                success?: boolean;
                transaction?: string;
              })
            : undefined;
        if (status >= 200 && status < 300) {
          settle({
            kind: 'served',
            status,
            tx: receipt?.success === true ? receipt.transaction : undefined,
          });
        } else {
          let reason: string | undefined;
          try {
            reason = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reason?: string })
              .reason;
          } catch {
            reason = undefined;
          }
          settle({ kind: 'answered', status, reason });
        }
      });
      res.on('error', (err) => gone(err.message));
      res.on('close', () => gone('response closed before its end'));
    },
  );
  req.on('timeout', () => req.destroy(new Error('attempt timed out')));
  req.on('error', (err) => gone(err.message));
  req.on('close', () => gone('connection closed'));
  req.end();
  return {
    done,
    leave() {
      left = true;
      req.destroy();
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const TRANSFER = parseAbiItem(
  'event Transfer(address indexed from, address indexed to, uint256 value)',
);
const AUTHORIZATION_USED = parseAbiItem(
  'event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)',
);

interface ChainPayment {
  readonly tx: Hex;
  readonly from: Address;
  readonly value: bigint;
}

interface ChainView {
  /** nonce → its transfer to payTo. */
  readonly byNonce: Map<string, ChainPayment>;
  readonly total: bigint;
  readonly transfers: number;
  /** Transfers to payTo that are not exactly one authorization's (must stay empty). */
  readonly anomalies: string[];
}

const net = useDevnet({ facilitator: { http: true, receiptTimeoutMs: 5_000 } });
const dir = tempDir('x402-mixed-faults-');
const ledgerPath = join(dir.path, 'x402-ledger.sqlite');
let upstream: FaultyUpstream | undefined;
let proxy: FaultyFacilitator | undefined;
const processes: GatewayProcess[] = [];

afterAll(async () => {
  for (const p of processes) await p.kill().catch(() => undefined);
  await proxy?.close();
  await upstream?.close();
  dir.remove();
});

describe('mixed faults', () => {
  it('240 paid requests, every fault, one SIGKILL: chain == ledger == metrics == served × price', async () => {
    const devnet = net.devnet;
    const chain = publicClient(devnet);
    const payTo = freshAddress();
    const runStart = performance.now();

    // --- The plan: a fault per attempt, from the seed alone.
    const rand = prng(SEED);
    const plans: Plan[] = Array.from({ length: PAYMENTS }, (_, index) => ({
      index,
      path: `/v1/items/p${index}`,
      faults: [pick(rand, FIRST), pick(rand, RETRY)] as const,
      attempts: [],
    }));

    // --- Who faults what, keyed so that the upstream and the proxy find the attempt.
    const upstreamLeaves = new Map<string, () => void>(); // x-attempt → make the client leave
    const settlePlans = new Map<string, SettleFault | (() => void)>(); // nonce → fault, or leave
    let started = 0;
    let crashed = false;
    let killedAt = Number.POSITIVE_INFINITY;
    let crashNonce: string | undefined;

    upstream = await startFaultyUpstream({
      holdMs: 300,
      onRequest(req) {
        if (req.headers['x-upstream-fault'] !== 'hold') return;
        upstreamLeaves.get(String(req.headers['x-attempt']))?.();
      },
    });

    let gateway: GatewayProcess;
    let generation = 1;
    let down: Promise<void> | undefined;
    let configPath = '';
    /** SIGKILL the gateway now; a new one starts on the same config and ledger. */
    const crash = (): Promise<void> => {
      const old = gateway;
      killedAt = performance.now();
      const killed = old.kill();
      down = killed
        .then(() => startGatewayProcess(configPath))
        .then((g) => {
          processes.push(g);
          gateway = g;
          generation++;
          down = undefined;
        });
      return killed;
    };
    const live = async (): Promise<{ url: string; generation: number }> => {
      while (down !== undefined) await down;
      return { url: gateway.url, generation };
    };

    proxy = await startFaultyFacilitator({
      target: net.facilitatorServer.url,
      lateMs: LATE_MS,
      decide({ nonce }): SettleDecision | SettleFault {
        const planned = nonce === undefined ? undefined : settlePlans.get(nonce);
        if (planned !== undefined) {
          settlePlans.delete(nonce!);
          if (typeof planned === 'string') return planned;
          // The client leaves while its settlement is in flight; the gateway sees it go first.
          return {
            fault: 'pass',
            before: async () => {
              planned();
              await sleep(200);
            },
          };
        }
        if (!crashed && started >= KILL_AT) {
          // SIGKILL while this settlement is in flight; the transfer is sent while it is down.
          crashed = true;
          crashNonce = nonce;
          return { fault: 'pass', before: crash };
        }
        return 'pass';
      },
    });

    configPath = join(dir.path, 'gateway.yaml');
    writeFileSync(
      configPath,
      `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdownTimeoutMs: 3000 }
facilitator:
  url: ${proxy.url}
  verifyTimeoutMs: 5000
  settleTimeoutMs: ${SETTLE_TIMEOUT_MS}
payment:
  network: ${devnet.network.v1Name}
  payTo: "${payTo}"
  maxTimeoutSeconds: 600
  asset: { address: "${devnet.usdc}", decimals: 6, name: USDC, version: "2" }
upstream: ${upstream.url}
upstreamTimeoutMs: 5000
rpcUrls: { "${devnet.network.caip2}": ${devnet.rpcUrl} }
ledger:
  maxRedemptions: ${MAX_REDEMPTIONS}
  reconcileIntervalSeconds: 1
log: { level: ${process.env.MIXED_FAULTS_DUMP === undefined ? 'warn' : 'info'} }
# Every lane is one loopback client: its declines, replays and faults would pass the default
# failure limits (429s). The limits stay on, raised out of reach: the money is what is measured.
rateLimits: { failuresPerMinute: { perClient: 1000000, perPayer: 1000000 } }
routes:
  "GET /v1/items/:id": { amount: "${PRICE}" }
`,
    );
    const payers: Payer[] = [];
    for (let i = 0; i < LANES; i++) payers.push(await newPayer(devnet, 10_000_000n));
    gateway = await startGatewayProcess(configPath);
    processes.push(gateway);

    // --- The run.
    const attempt = async (plan: Plan, fault: Fault): Promise<Result> => {
      const { url, generation: gen } = await live();
      const id = `${plan.index}.${plan.attempts.length}`;
      const nonce = plan.nonce!;
      const headers: Record<string, string> = { 'x-attempt': id };
      if (fault === 'upstream-500') headers['x-upstream-fault'] = '500';
      if (fault === 'leave-in-upstream') headers['x-upstream-fault'] = 'hold';
      if (fault === 'leave-mid-body') headers['x-upstream-fault'] = 'slow-body';
      const settleFault = SETTLE_FAULT[fault];
      if (settleFault !== undefined) settlePlans.set(nonce, settleFault);
      const sent = send(url, plan.path, plan.payment!, headers, fault === 'leave-mid-body');
      if (fault === 'leave-in-upstream') upstreamLeaves.set(id, () => sent.leave());
      if (fault === 'leave-in-settle') settlePlans.set(nonce, () => sent.leave());
      const result = await sent.done;
      settlePlans.delete(nonce);
      upstreamLeaves.delete(id);
      plan.attempts.push({ ...result, fault, generation: gen, at: performance.now() });
      return result;
    };
    const sign = async (plan: Plan): Promise<void> => {
      for (let tries = 0; ; tries++) {
        const { url } = await live();
        try {
          plan.payment = await signFor(url, plan.path, {
            account: plan.payer!.account,
          });
          plan.nonce = authorizationOf(plan.payment.payload).nonce.toLowerCase();
          return;
        } catch (error) {
          if (tries >= 3) throw error; // the gateway died under the challenge: ask the next one
          await sleep(100);
        }
      }
    };
    const retryable = (r: Result): boolean =>
      r.kind === 'left' || r.kind === 'broken' || (r.kind === 'answered' && r.status === 503);
    const runPayment = async (plan: Plan): Promise<void> => {
      await sign(plan);
      const first = await attempt(plan, plan.faults[0]);
      if (!retryable(first)) return;
      await sleep(first.kind === 'answered' ? 300 : 100);
      await attempt(plan, plan.faults[1]);
    };
    let next = 0;
    const lane = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        if (i >= PAYMENTS) return;
        started = i;
        plans[i]!.payer = payers[i % LANES]!;
        await runPayment(plans[i]!);
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    const runMs = performance.now() - runStart;
    expect(crashed).toBe(true);
    expect(generation).toBe(2);
    const hung = plans.flatMap((p) =>
      p.attempts.filter((a) => a.kind === 'broken' && a.detail === 'attempt timed out'),
    );
    expect(hung, 'requests the gateway never answered').toEqual([]);

    // --- Let every held settlement end, then let the reconciler catch up with the chain.
    await proxy.idle();
    const readChain = async (): Promise<ChainView> => {
      const [transfers, used] = await Promise.all([
        chain.getLogs({
          address: devnet.usdc,
          event: TRANSFER,
          args: { to: payTo },
          fromBlock: 0n,
          toBlock: 'latest',
        }),
        chain.getLogs({
          address: devnet.usdc,
          event: AUTHORIZATION_USED,
          fromBlock: 0n,
          toBlock: 'latest',
        }),
      ]);
      const noncesOf = new Map<string, string[]>();
      for (const u of used) {
        const list = noncesOf.get(u.transactionHash) ?? [];
        list.push(u.args.nonce!.toLowerCase());
        noncesOf.set(u.transactionHash, list);
      }
      const byNonce = new Map<string, ChainPayment>();
      const anomalies: string[] = [];
      let total = 0n;
      for (const t of transfers) {
        total += t.args.value!;
        const nonces = noncesOf.get(t.transactionHash) ?? [];
        if (nonces.length !== 1) {
          anomalies.push(`${t.transactionHash}: ${nonces.length} authorizations`);
          continue;
        }
        if (byNonce.has(nonces[0]!)) anomalies.push(`nonce ${nonces[0]} paid twice`);
        byNonce.set(nonces[0]!, {
          tx: t.transactionHash,
          from: t.args.from!,
          value: t.args.value!,
        });
      }
      return { byNonce, total, transfers: transfers.length, anomalies };
    };
    const readLedger = (): LedgerRecord[] => {
      const book = new SqliteBook(ledgerPath, { readonly: true });
      try {
        return book.list();
      } finally {
        book.close();
      }
    };
    const paid = new Set<string>(PAID_STATES);
    const paidTotal = (records: readonly LedgerRecord[]): bigint =>
      records.filter((r) => paid.has(r.state)).reduce((s, r) => s + BigInt(r.amount), 0n);
    const revenueOnMetrics = async (): Promise<bigint> => {
      await live();
      const text = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
      let sum = 0n;
      for (const line of text.split('\n')) {
        if (line.startsWith('x402_gateway_revenue_atomic_total{'))
          sum += BigInt(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    };
    const booksAtRest = async (): Promise<{
      onChain: ChainView;
      records: LedgerRecord[];
      revenue: bigint;
    }> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const onChain = await readChain();
        const records = readLedger();
        const revenue = await revenueOnMetrics();
        const byNonce = new Map(records.map((r) => [r.nonce, r]));
        const caughtUp =
          records.every((r) => r.state !== 'settling' && r.state !== 'settled') &&
          [...onChain.byNonce.keys()].every((n) => paid.has(byNonce.get(n)?.state ?? '')) &&
          revenue === paidTotal(records);
        if (caughtUp || Date.now() > deadline) return { onChain, records, revenue };
        await sleep(250);
      }
    };
    const before = await booksAtRest();
    const catchUpMs = performance.now() - runStart - runMs;
    const byNonce = new Map(before.records.map((r) => [r.nonce, r]));
    const byPlan = new Map(plans.map((p) => [p.nonce!, p]));
    const payerOf = (plan: Plan): Address => plan.payer!.address;
    // MIXED_FAULTS_DUMP=FILE: every payment's history, the book and the gateways' logs (at info).
    if (process.env.MIXED_FAULTS_DUMP !== undefined) {
      writeFileSync(
        process.env.MIXED_FAULTS_DUMP,
        JSON.stringify(
          {
            killedAt,
            crashNonce,
            plans: plans.map((p) => ({ ...p, chain: before.onChain.byNonce.get(p.nonce!) })),
            records: before.records,
            logs: processes.map((g) => g.stdout()),
          },
          (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
          1,
        ),
      );
    }

    // The chain: one transfer per payment, of the price, from its payer, each in the book as paid
    // (confirmed by now), with the transfer's hash.
    expect(before.onChain.anomalies).toEqual([]);
    for (const [nonce, t] of before.onChain.byNonce) {
      const plan = byPlan.get(nonce);
      expect(plan, `transfer ${t.tx} is none of our payments`).toBeDefined();
      expect(t.value).toBe(PRICE);
      expect(t.from).toBe(payerOf(plan!));
      const record = byNonce.get(nonce);
      expect(record?.state, `payment ${plan!.index} (${nonce}) on chain`).toBe('confirmed');
      expect(record?.transaction).toBe(t.tx);
    }
    // The book: nothing paid without its transfer, nothing left settling or disputed, and every
    // record still unknown is unspent on chain (its money never moved).
    for (const r of before.records) {
      if (paid.has(r.state)) expect(before.onChain.byNonce.has(r.nonce), r.key).toBe(true);
      expect(['settling', 'settled', 'disputed']).not.toContain(r.state);
      if (r.state === 'unknown')
        expect(await authorizationState(devnet, r.payer as Address, r.nonce as Hex)).toBe(false);
    }

    // Every whole 2xx names a transfer of its payer's: its own payment's, or (a credit) an earlier
    // one of the same payer that never delivered; then its own payment moved nothing.
    const txs = new Map<string, string>(
      [...before.onChain.byNonce].map(([nonce, t]) => [t.tx, nonce]),
    );
    /** transaction → the whole 2xx that named it (in the order they came). */
    const namedBy = new Map<string, Array<{ plan: Plan; win: Attempt }>>();
    const name = (tx: string, plan: Plan, win: Attempt): void => {
      namedBy.set(
        tx,
        [...(namedBy.get(tx) ?? []), { plan, win }].sort((a, b) => a.win.at - b.win.at),
      );
    };
    /** The crash's exception (see above): delivered by the killed gateway as it died. */
    const lostInCrash = (win: Attempt): boolean => win.generation === 1 && killedAt - win.at < 250;
    let credited = 0;
    const servedRun = new Set<string>(); // nonces of payments served during the run
    for (const plan of plans) {
      const wins = plan.attempts.filter((a) => a.kind === 'served');
      expect(wins.length, `payment ${plan.index} served twice`).toBeLessThanOrEqual(1);
      const win = wins[0];
      if (win === undefined) continue;
      servedRun.add(plan.nonce!);
      const tx = (win as { tx: string | undefined }).tx;
      const nonce = tx === undefined ? undefined : txs.get(tx);
      expect(nonce, `payment ${plan.index} served without a transfer (${tx})`).toBeDefined();
      expect(before.onChain.byNonce.get(nonce!)!.from).toBe(payerOf(plan));
      if (nonce !== plan.nonce) {
        credited++;
        expect(before.onChain.byNonce.has(plan.nonce!), `payment ${plan.index}`).toBe(false);
      }
      name(tx!, plan, win);
    }
    // No settlement serves two responses (but for the crash's exception).
    const reserved: number[] = []; // payments served by a settlement that had served already
    for (const [tx, wins] of namedBy) {
      if (wins.length === 1) continue;
      const [first, ...later] = wins;
      expect(
        wins.length === 2 && lostInCrash(first!.win) && later[0]!.win.generation > 1,
        `one settlement (${tx}) served payments ${wins.map((w) => w.plan.index).join(' and ')}`,
      ).toBe(true);
      reserved.push(later[0]!.plan.index);
    }

    // Charged, not served: its client left or lost the answer, and its one retry was not served
    // either. Each must still be redeemable, and one more retry of it is served, not charged.
    const unserved = [...before.onChain.byNonce].filter(([, t]) => !namedBy.has(t.tx));
    for (const [nonce] of unserved) {
      const plan = byPlan.get(nonce)!;
      const record = byNonce.get(nonce)!;
      expect(plan.attempts.length, `payment ${plan.index}: charged, never retried`).toBe(2);
      const last = plan.attempts[1]!;
      expect(
        record.deliveredAt,
        `payment ${plan.index} (${plan.faults.join(', ')}): charged, never served, yet recorded ` +
          `as delivered; its retry got ${last.kind === 'answered' ? last.status : last.kind}`,
      ).toBeUndefined();
      expect(record.redemptions).toBeLessThan(MAX_REDEMPTIONS);
    }
    // The books agree before those last retries.
    expect(before.revenue).toBe(before.onChain.total);
    expect(paidTotal(before.records)).toBe(before.onChain.total);
    expect(before.onChain.total).toBe(BigInt(namedBy.size + unserved.length) * PRICE);

    for (const [nonce, t] of unserved) {
      const plan = byPlan.get(nonce)!;
      const r = await send((await live()).url, plan.path, plan.payment!, {}, false).done;
      expect(r, `payment ${plan.index}'s last retry`).toMatchObject({ kind: 'served', tx: t.tx });
      plan.attempts.push({ ...r, fault: 'none', generation, at: performance.now() });
      name(t.tx, plan, plan.attempts.at(-1)!);
    }
    const servedPayments = plans.filter((p) => p.attempts.some((a) => a.kind === 'served'));

    // A charged payment offered again is refused, never served twice (but for the crash's
    // exception).
    const again: Result[] = [];
    const servedTwice: number[] = [];
    for (const [nonce, t] of before.onChain.byNonce) {
      const plan = byPlan.get(nonce)!;
      const r = await send((await live()).url, plan.path, plan.payment!, {}, false).done;
      again.push(r);
      if (r.kind === 'served') {
        const wins = namedBy.get(t.tx)!;
        servedTwice.push(plan.index);
        expect(
          wins.length === 1 && lostInCrash(wins[0]!.win),
          `payment ${plan.index} served again (${t.tx} served ${wins.length} already)`,
        ).toBe(true);
        continue;
      }
      expect(r, `payment ${plan.index} offered again`).toMatchObject({
        kind: 'answered',
        status: 402,
        reason: 'payment_already_used',
      });
    }

    // --- The books, at the end: chain == ledger == metrics == payments served × price (a payment
    // served by a settlement that had served before the crash is not one more price).
    const after = await booksAtRest();
    expect(after.onChain.anomalies).toEqual([]);
    expect(after.onChain.transfers).toBe(before.onChain.transfers); // no retry moved money
    expect(after.onChain.total).toBe(before.onChain.total);
    expect(paidTotal(after.records)).toBe(after.onChain.total);
    expect(after.revenue).toBe(after.onChain.total);
    expect(after.onChain.total).toBe(BigInt(servedPayments.length - reserved.length) * PRICE);
    expect(new Set(namedBy.keys())).toEqual(new Set(txs.keys()));
    for (const plan of plans.filter((p) => !after.onChain.byNonce.has(p.nonce!))) {
      const state = after.records.find((r) => r.nonce === plan.nonce)?.state;
      expect(['released', 'declined', 'unknown', 'failed', undefined]).toContain(state);
    }

    // --- The figures.
    const tally = (xs: readonly string[]): Record<string, number> => {
      const m: Record<string, number> = {};
      for (const x of xs) m[x] = (m[x] ?? 0) + 1;
      return m;
    };
    const label = (r: Result): string =>
      r.kind === 'answered' ? `${r.status} ${r.reason ?? ''}`.trim() : r.kind;
    const run = plans.flatMap((p) => p.attempts.slice(0, 2));
    console.log(
      JSON.stringify(
        {
          seed: SEED,
          payments: PAYMENTS,
          attempts: run.length,
          faults: tally(run.map((a) => a.fault)),
          results: tally(run.map(label)),
          facilitatorSettles: proxy.counts,
          forwardedSettles: proxy.forwarded,
          upstreamCalls: upstream.calls,
          crash: {
            broken: run.filter((a) => a.kind === 'broken').length,
            settlementInFlight: crashNonce,
          },
          servedDuringRun: servedRun.size,
          servedThroughCredit: credited,
          servedAgainAfterCrash: reserved,
          chargedUnservedThenRedeemed: unserved.length,
          offeredAgain: tally(again.map(label)),
          offeredAgainServedAfterCrash: servedTwice,
          transfers: after.onChain.transfers,
          total: after.onChain.total.toString(),
          revenue: after.revenue.toString(),
          ledger: tally(after.records.map((r) => r.state)),
          ms: {
            run: Math.round(runMs),
            catchUp: Math.round(catchUpMs),
            all: Math.round(performance.now() - runStart),
          },
        },
        null,
        1,
      ),
    );
  }, 120_000);
});
