/**
 * The gateway is SIGKILLed after the built-in facilitator broadcast the transfer and before its
 * answer (the devnet does not mine, so the receipt wait holds the request). On restart the ledger
 * holds the payment: the start-up reconciliation finds our transfer on chain, the retry with the
 * same payment is served once (redeemed: no second settlement), a retry after that delivery gets
 * 402 payment_already_used, and revenue counts the payment exactly once. A real devnet, a real
 * process, a real SQLite file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { SqliteBook } from '../../../src/ledger/index.js';
import {
  account,
  authorizationState,
  balanceOf,
  freshAddress,
  mineBlocks,
  newPayer,
  publicClient,
  SETTLER_INDEX,
  transfersTo,
  useDevnet,
} from '../../helpers/devnet.js';
import { startGatewayProcess, type GatewayProcess } from '../../helpers/gateway-process.js';
import { payWith, signFor } from '../../helpers/pay.js';
import { authorizationOf } from '../../helpers/payments.js';
import { decodeHeader } from '../../helpers/raw-http.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { startTestUpstream, type TestUpstream } from '../../helpers/upstream.js';

const PRICE = 2_000n;
const suite = useDevnet({ mining: false });
const dir = tempDir();
let upstream: TestUpstream | undefined;
const running: GatewayProcess[] = [];

afterAll(async () => {
  for (const p of running) await p.kill().catch(() => undefined);
  await upstream?.close();
  dir.remove();
});

/** A config (and so a ledger beside it) in a folder of its own per test. */
function writeConfig(payTo: Address, upstreamUrl: string, folder = 'retry'): string {
  const devnet = suite.devnet;
  mkdirSync(join(dir.path, folder), { recursive: true });
  const path = join(dir.path, folder, 'gateway.yaml');
  writeFileSync(
    path,
    `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdownTimeoutMs: 2000 }
facilitator:
  local:
    rpcUrl: ${devnet.rpcUrl}
    privateKey: "${account(devnet, SETTLER_INDEX).privateKey}"
    receiptTimeoutMs: 15000
  settleTimeoutMs: 20000
payment:
  network: ${devnet.network.v1Name}
  payTo: "${payTo}"
  maxTimeoutSeconds: 300
  asset: { address: "${devnet.usdc}", decimals: 6, name: USDC, version: "2" }
upstream: ${upstreamUrl}
log: { level: warn }
routes:
  "GET /v1/items/:id": { amount: "${PRICE}" }
`,
  );
  return path;
}

async function revenue(adminUrl: string, payTo: Address): Promise<bigint> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let sum = 0n;
  for (const line of text.split('\n')) {
    if (line.startsWith('x402_gateway_revenue_atomic_total{') && line.includes(`pay_to="${payTo}"`))
      sum += BigInt(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function metricValue(adminUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Waits until the built-in facilitator's settler has a transaction in the pool. */
async function waitForBroadcast(gateway: GatewayProcess, pendingBefore: number): Promise<void> {
  const chain = publicClient(suite.devnet);
  const settler = account(suite.devnet, SETTLER_INDEX).address;
  const deadline = Date.now() + 15_000;
  while (
    (await chain.getTransactionCount({ address: settler, blockTag: 'pending' })) === pendingBefore
  ) {
    if (Date.now() > deadline) throw new Error(`no broadcast seen:\n${gateway.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Mines a block every 100 ms while `work` runs (the devnet does not mine by itself here). */
async function whileMining<T>(work: Promise<T>): Promise<T> {
  let done = false;
  const mining = (async () => {
    while (!done) {
      await mineBlocks(suite.devnet);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    return await work;
  } finally {
    done = true;
    await mining;
  }
}

/** Records the payment payload each request carried (to read the signed nonce back). */
function recordingFetch(sent: unknown[]): typeof fetch {
  return (input, init) => {
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    new Headers(init?.headers).forEach((v, k) => headers.set(k, v));
    const header = headers.get('payment-signature');
    if (header !== null) sent.push(decodeHeader(header));
    return fetch(input, init);
  };
}

describe('crash during a settlement', () => {
  it('SIGKILL after the broadcast: on restart the retry is served once, then refused as used', async () => {
    const devnet = suite.devnet;
    upstream = await startTestUpstream();
    const payTo = freshAddress();
    const config = writeConfig(payTo, upstream.url);
    const payer = await newPayer(devnet, 10_000n);
    await mineBlocks(devnet);
    const settler = account(devnet, SETTLER_INDEX).address;
    const chain = publicClient(devnet);
    const nonceBefore = await chain.getTransactionCount({ address: settler, blockTag: 'pending' });

    const first = await startGatewayProcess(config);
    running.push(first);
    const path = '/v1/items/crash';
    const payment = await signFor(first.url, path, { account: payer.account });
    const inFlight = payWith(first.url, path, payment).catch((e: unknown) => e);
    // Wait for the broadcast: the settler's pending nonce moves once the transfer is in the pool.
    const deadline = Date.now() + 15_000;
    while (
      (await chain.getTransactionCount({ address: settler, blockTag: 'pending' })) === nonceBefore
    ) {
      if (Date.now() > deadline) throw new Error(`no broadcast seen:\n${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await first.kill();
    expect(await inFlight).toBeInstanceOf(Error); // the client never got an answer
    expect(upstream.calls.filter((c) => c.url === path)).toHaveLength(1); // body withheld

    // The record was durable before the broadcast.
    const book = new SqliteBook(join(dir.path, 'retry', 'x402-ledger.sqlite'), { readonly: true });
    const [held] = book.list();
    book.close();
    expect(held).toMatchObject({ state: 'settling', amount: String(PRICE), path });

    await mineBlocks(devnet); // our transfer lands while the gateway is down
    const second = await startGatewayProcess(config);
    running.push(second);

    const served = await payWith(second.url, path, payment);
    expect(served.status).toBe(200);
    const receipt = decodeHeader(served.headers['payment-response']);
    expect(receipt).toMatchObject({ success: true });
    expect(upstream.calls.filter((c) => c.url === path)).toHaveLength(2);

    const again = await payWith(second.url, path, payment);
    expect(again.status).toBe(402);
    expect(JSON.parse(again.body)).toMatchObject({ reason: 'payment_already_used' });
    expect(upstream.calls.filter((c) => c.url === path)).toHaveLength(2);

    // Paid once, on chain, in the book and in the metrics.
    const transfers = await transfersTo(devnet, payTo);
    expect(transfers).toHaveLength(1);
    expect(transfers[0]).toMatchObject({ from: payer.address, value: PRICE });
    expect(receipt.transaction).toBe(transfers[0]!.transactionHash);
    expect(await balanceOf(devnet, payTo)).toBe(PRICE);
    expect(await revenue(second.adminUrl, payTo)).toBe(PRICE);
    await second.stop();
    const after = new SqliteBook(join(dir.path, 'retry', 'x402-ledger.sqlite'), { readonly: true });
    const record = after.get(held!.key)!;
    const attempts = after.attempts(held!.key);
    after.close();
    expect(['settled', 'confirmed']).toContain(record.state);
    expect(record.transaction).toBe(transfers[0]!.transactionHash);
    expect(record.deliveredAt).toBeDefined();
    expect(attempts.some((a) => a.delivered && a.status === 200)).toBe(true);
  }, 90_000);

  it('an official client, which signs a new payment instead of retrying: served through its credit', async () => {
    const devnet = suite.devnet;
    const payTo = freshAddress();
    const config = writeConfig(payTo, upstream!.url, 'official');
    const payer = await newPayer(devnet, 10_000n);
    await mineBlocks(devnet);
    const settler = account(devnet, SETTLER_INDEX).address;
    const pendingBefore = await publicClient(devnet).getTransactionCount({
      address: settler,
      blockTag: 'pending',
    });
    const sent: unknown[] = [];
    const client = new x402Client();
    registerExactEvmScheme(client, { signer: payer.account });
    const pay = wrapFetchWithPayment(recordingFetch(sent), client);

    const first = await startGatewayProcess(config);
    running.push(first);
    const inFlight = pay(`${first.url}/v1/items/official-1`).catch((e: unknown) => e);
    await waitForBroadcast(first, pendingBefore);
    await first.kill();
    expect(await inFlight).toBeInstanceOf(Error); // the client never got an answer
    await mineBlocks(devnet); // our transfer lands while the gateway is down

    const second = await startGatewayProcess(config);
    running.push(second);
    const calls = (path: string): number => upstream!.calls.filter((c) => c.url === path).length;
    // The client does what official clients do: asks again, gets a 402, signs a new payment.
    const served = await pay(`${second.url}/v1/items/official-2`);
    expect(served.status).toBe(200);
    expect(calls('/v1/items/official-2')).toBe(1);
    const receipt = decodePaymentResponseHeader(served.headers.get('payment-response')!);
    const transfers = await transfersTo(devnet, payTo);
    expect(transfers).toHaveLength(1); // the first payment's, and no other
    expect(receipt).toMatchObject({ success: true, transaction: transfers[0]!.transactionHash });
    expect(sent).toHaveLength(2);
    // The new signature was verified, never settled: its authorization is still unused.
    const fresh = authorizationOf(sent[1]);
    expect(await authorizationState(devnet, payer.address, fresh.nonce)).toBe(false);
    expect(await balanceOf(devnet, payTo)).toBe(PRICE);
    expect(await revenue(second.adminUrl, payTo)).toBe(PRICE);
    expect(
      await metricValue(second.adminUrl, 'x402_gateway_credits_total{outcome="consumed"}'),
    ).toBe(1);

    // The credit is spent: the next request pays, once.
    const next = await whileMining(pay(`${second.url}/v1/items/official-3`));
    expect(next.status).toBe(200);
    expect(await transfersTo(devnet, payTo)).toHaveLength(2);
    expect(await balanceOf(devnet, payTo)).toBe(2n * PRICE);
    await second.stop();
  }, 90_000);
});
