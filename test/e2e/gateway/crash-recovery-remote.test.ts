/**
 * A crash during a settlement with a REMOTE facilitator: the built-in facilitator served over HTTP
 * in its own process (`x402-gateway facilitator`), which really broadcasts on the devnet, and a
 * gateway process that reads the chain through the top-level `rpcUrls` map. The gateway is
 * SIGKILLed after the facilitator broadcast our transfer and before its answer (the devnet does not
 * mine, so the facilitator's receipt wait holds the request).
 *
 * - With `rpcUrls`: the write-ahead record is in the SQLite file; on restart the start-up
 *   reconciliation reads our transfer on the chain (the record becomes `settled`, revenue counted
 *   before any retry); the retry with the same payment is served once (the upstream runs once more,
 *   PAYMENT-RESPONSE names the transaction), a second retry gets 402 payment_already_used, revenue
 *   counts the payment exactly once (also after another restart), the payee gets the price once.
 * - Without `rpcUrls` for the network: start-up warns naming the network; after the restart the
 *   record cannot be reconciled (`no_rpc`), and every retry, before and after the transfer lands,
 *   gets 503 settlement_pending — never a 402 that would invite a second payment.
 *
 * A real devnet, real processes, a real SQLite file; loopback only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  account,
  balanceOf,
  freshAddress,
  mineBlocks,
  newPayer,
  publicClient,
  SETTLER_INDEX,
  transfersTo,
  useDevnet,
} from '../../helpers/devnet.js';
import {
  startFacilitatorProcess,
  type FacilitatorProcess,
} from '../../helpers/facilitator-process.js';
import { startGatewayProcess, type GatewayProcess } from '../../helpers/gateway-process.js';
import { payWith, signFor, type PaymentHeader } from '../../helpers/pay.js';
import { decodeHeader } from '../../helpers/raw-http.js';
import { readBook } from '../../helpers/read-book.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { startTestUpstream, type TestUpstream } from '../../helpers/upstream.js';

const PRICE = 2_000n;
const NO_RPC_WARNING = 'no rpcUrls entry for a priced network';
const suite = useDevnet({ mining: false });
const dir = tempDir();
let upstream: TestUpstream;
let facilitator: FacilitatorProcess;
const running: GatewayProcess[] = [];

beforeAll(async () => {
  upstream = await startTestUpstream();
  facilitator = await startFacilitatorProcess({
    rpcUrl: suite.devnet.rpcUrl,
    privateKey: account(suite.devnet, SETTLER_INDEX).privateKey,
    // Longer than any wait below, even on a loaded machine: the facilitator's first settle call
    // stays in its receipt wait until the test mines (else a retry would broadcast again).
    receiptTimeoutMs: 45_000,
  });
});

afterAll(async () => {
  for (const p of running) await p.kill().catch(() => undefined);
  await facilitator?.stop();
  await upstream?.close();
  dir.remove();
});

/** A gateway config in its own folder (so its own ledger file) using the remote facilitator. */
function writeConfig(
  name: string,
  payTo: Address,
  rpcUrls: boolean,
): { config: string; ledger: string } {
  const devnet = suite.devnet;
  const folder = join(dir.path, name);
  mkdirSync(folder);
  const config = join(folder, 'gateway.yaml');
  writeFileSync(
    config,
    `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdownTimeoutMs: 2000 }
facilitator:
  url: ${facilitator.url}
  settleTimeoutMs: 50000
${rpcUrls ? `rpcUrls:\n  ${devnet.network.v1Name}: ${devnet.rpcUrl}\n` : ''}payment:
  network: ${devnet.network.v1Name}
  payTo: "${payTo}"
  maxTimeoutSeconds: 300
  asset: { address: "${devnet.usdc}", decimals: 6, name: USDC, version: "2" }
upstream: ${upstream.url}
log: { level: warn }
routes:
  "GET /v1/items/:id": { amount: "${PRICE}" }
`,
  );
  return { config, ledger: join(folder, 'x402-ledger.sqlite') };
}

async function start(config: string): Promise<GatewayProcess> {
  const gw = await startGatewayProcess(config, 30_000);
  running.push(gw);
  return gw;
}

async function metricsText(adminUrl: string): Promise<string> {
  return (await fetch(`${adminUrl}/metrics`)).text();
}

async function revenue(adminUrl: string, payTo: Address): Promise<bigint> {
  let sum = 0n;
  for (const line of (await metricsText(adminUrl)).split('\n')) {
    if (line.startsWith('x402_gateway_revenue_atomic_total{') && line.includes(`pay_to="${payTo}"`))
      sum += BigInt(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function reconciled(adminUrl: string, outcome: string): Promise<number> {
  const prefix = `x402_gateway_ledger_reconciled_total{outcome="${outcome}"} `;
  const line = (await metricsText(adminUrl)).split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? 0 : Number(line.slice(prefix.length));
}

/** The gateway's JSON log lines (stdout) whose `msg` contains `text`. */
function logged(gw: GatewayProcess, text: string): Array<Record<string, unknown>> {
  const found: Array<Record<string, unknown>> = [];
  for (const line of gw.stdout().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (typeof entry.msg === 'string' && entry.msg.includes(text)) found.push(entry);
    } catch {
      // not a log line
    }
  }
  return found;
}

function calls(path: string): number {
  return upstream.calls.filter((c) => c.url === path).length;
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Send the paid request, wait until the remote facilitator broadcast the transfer (the settler's
 * pending nonce moves once it is in the pool), SIGKILL the gateway: the client gets no answer.
 */
async function crashAfterBroadcast(gw: GatewayProcess, path: string, payment: PaymentHeader) {
  const devnet = suite.devnet;
  const settler = account(devnet, SETTLER_INDEX).address;
  const chain = publicClient(devnet);
  const nonceBefore = await chain.getTransactionCount({ address: settler, blockTag: 'pending' });
  const inFlight = payWith(gw.url, path, payment).catch((e: unknown) => e);
  await until(`the broadcast\n${gw.stderr()}\n${facilitator.stderr()}`, 15_000, async () =>
    (await chain.getTransactionCount({ address: settler, blockTag: 'pending' })) > nonceBefore
      ? true
      : undefined,
  );
  // Still nothing mined: the facilitator is waiting for the receipt, the gateway for its answer.
  expect(await chain.getTransactionCount({ address: settler, blockTag: 'latest' })).toBe(
    nonceBefore,
  );
  await gw.kill();
  expect(await inFlight).toBeInstanceOf(Error); // the client never got an answer
  expect(calls(path)).toBe(1); // the upstream ran once, its body withheld
}

describe('crash during a settlement, remote facilitator', () => {
  it('with rpcUrls: reconciled at restart, the retry is served once, then refused as used', async () => {
    const devnet = suite.devnet;
    const payTo = freshAddress();
    const { config, ledger } = writeConfig('with-rpc', payTo, true);
    const payer = await newPayer(devnet, 10_000n); // mines its own block

    const first = await start(config);
    const path = '/v1/items/remote-crash';
    const payment = await signFor(first.url, path, { account: payer.account });
    await crashAfterBroadcast(first, path, payment);
    // The network has its chain reader: no warning (the batched log was flushed long ago).
    expect(logged(first, NO_RPC_WARNING)).toEqual([]);

    // The write-ahead record was durable before /settle was sent.
    const [held, ...others] = readBook(ledger);
    expect(others).toEqual([]);
    expect(held).toMatchObject({
      state: 'settling',
      amount: String(PRICE),
      path,
      payTo,
      payer: payer.address.toLowerCase(),
      network: devnet.network.caip2,
    });
    expect(held!.transaction).toBeUndefined(); // the answer with the hash never arrived

    await mineBlocks(devnet); // our transfer lands while the gateway is down
    const transfers = await transfersTo(devnet, payTo);
    expect(transfers).toHaveLength(1);
    expect(transfers[0]).toMatchObject({ from: payer.address, value: PRICE });
    const tx = transfers[0]!.transactionHash;

    const second = await start(config);
    // The start-up reconciliation read the chain through rpcUrls: settled before any retry.
    const reconciledRecord = await until('the start-up reconciliation', 10_000, () => {
      const r = readBook(ledger).find((x) => x.key === held!.key);
      return Promise.resolve(r?.state === 'settled' || r?.state === 'confirmed' ? r : undefined);
    });
    expect(reconciledRecord.transaction).toBe(tx);
    expect(await reconciled(second.adminUrl, 'settled')).toBe(1);
    expect(await revenue(second.adminUrl, payTo)).toBe(PRICE);

    const served = await payWith(second.url, path, payment);
    expect(served.status).toBe(200);
    expect(JSON.parse(served.body)).toMatchObject({ ok: true, url: path });
    const receipt = decodeHeader(served.headers['payment-response']);
    expect(receipt).toMatchObject({ success: true, transaction: tx });
    expect(calls(path)).toBe(2); // the upstream ran once more, no second settlement

    const again = await payWith(second.url, path, payment);
    expect(again.status).toBe(402);
    expect(JSON.parse(again.body)).toMatchObject({ reason: 'payment_already_used' });
    expect(calls(path)).toBe(2);

    // Paid once: on chain, to the payee, in the metrics.
    expect(await transfersTo(devnet, payTo)).toHaveLength(1);
    expect(await balanceOf(devnet, payTo)).toBe(PRICE);
    expect(await revenue(second.adminUrl, payTo)).toBe(PRICE);
    await second.stop();

    const [record, ...rest] = readBook(ledger);
    expect(rest).toEqual([]);
    expect(['settled', 'confirmed']).toContain(record!.state);
    expect(record!.transaction).toBe(tx);
    expect(record!.deliveredAt).toBeDefined();
    expect(record!.redemptions).toBe(1);

    // Revenue is re-read from the book on the next start, not counted again.
    const third = await start(config);
    expect(await revenue(third.adminUrl, payTo)).toBe(PRICE);
    const late = await payWith(third.url, path, payment);
    expect(late.status).toBe(402);
    expect(JSON.parse(late.body)).toMatchObject({ reason: 'payment_already_used' });
    expect(calls(path)).toBe(2);
    await third.stop();
  }, 60_000);

  it('without rpcUrls: start-up warns naming the network; after the restart every retry is 503 settlement_pending, never 402', async () => {
    const devnet = suite.devnet;
    const payTo = freshAddress();
    const { config, ledger } = writeConfig('no-rpc', payTo, false);
    const payer = await newPayer(devnet, 10_000n);

    const first = await start(config);
    // The log is batched (20 ms): the line may come just after "listening on".
    const warnings = await until('the no-rpc warning', 2_000, () =>
      Promise.resolve(
        logged(first, NO_RPC_WARNING).length > 0 ? logged(first, NO_RPC_WARNING) : undefined,
      ),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ network: devnet.network.caip2 });
    const path = '/v1/items/remote-crash-no-rpc';
    const payment = await signFor(first.url, path, { account: payer.account });
    await crashAfterBroadcast(first, path, payment);
    const [held] = readBook(ledger);
    expect(held).toMatchObject({ state: 'settling', amount: String(PRICE), path });

    // Restart while the transfer is still in the pool (the facilitator's first call still waits).
    const second = await start(config);
    await until('the no-rpc warning again', 2_000, () =>
      Promise.resolve(logged(second, NO_RPC_WARNING).length > 0 ? true : undefined),
    );
    expect(logged(second, NO_RPC_WARNING)).toMatchObject([{ network: devnet.network.caip2 }]);
    expect(await reconciled(second.adminUrl, 'no_rpc')).toBeGreaterThanOrEqual(1);

    /** A retry: 503 settlement_pending, its PAYMENT-RESPONSE with the hash the facilitator gave. */
    const pendingRetry = async (): Promise<unknown> => {
      const r = await payWith(second.url, path, payment);
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBeDefined();
      expect(JSON.parse(r.body)).toMatchObject({ reason: 'settlement_pending' });
      expect(r.body).not.toContain('"ok":true'); // the upstream's body never leaves
      const header = decodeHeader(r.headers['payment-response']);
      expect(header).toMatchObject({ success: false, errorReason: 'settlement_pending' });
      return header.transaction;
    };
    // The facilitator's first call is still waiting: it answers "in progress" with its hash.
    const pendingHash = await pendingRetry();

    // Now our transfer lands: the money moved, but this gateway has no way to read it.
    await mineBlocks(devnet);
    const transfers = await transfersTo(devnet, payTo);
    expect(transfers).toHaveLength(1);
    const tx = transfers[0]!.transactionHash;
    expect(pendingHash).toBe(tx);
    expect(await balanceOf(devnet, payTo)).toBe(PRICE);
    // Let the facilitator's first call see its receipt and end (it polls every 500 ms): the next
    // retries hear "nonce already used" from it, which must not become a fresh 402.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(await pendingRetry()).toBe(tx);
    expect(await pendingRetry()).toBe(tx);

    // Nothing counted, nothing served, the record open for an operator (or an rpcUrls entry).
    expect(await revenue(second.adminUrl, payTo)).toBe(0n);
    await second.stop();
    const [record, ...rest] = readBook(ledger);
    expect(rest).toEqual([]);
    expect(record).toMatchObject({ state: 'unknown', transaction: tx, redemptions: 0 });
    expect(record!.deliveredAt).toBeUndefined();
    expect(await transfersTo(devnet, payTo)).toHaveLength(1); // and no second transfer
  }, 60_000);
});
