/**
 * The gateway is SIGKILLed after the built-in facilitator broadcast the transfer and before its
 * answer (the devnet does not mine, so the receipt wait holds the request). On restart the ledger
 * holds the payment: the start-up reconciliation finds our transfer on chain, the retry with the
 * same payment is served once (redeemed: no second settlement), a retry after that delivery gets
 * 402 payment_already_used, and revenue counts the payment exactly once. A real devnet, a real
 * process, a real SQLite file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from 'viem';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteBook } from '../../../src/ledger/index.js';
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
import { startGatewayProcess, type GatewayProcess } from '../../helpers/gateway-process.js';
import { payWith, signFor } from '../../helpers/pay.js';
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

function writeConfig(payTo: Address, upstreamUrl: string): string {
  const devnet = suite.devnet;
  const path = join(dir.path, 'gateway.yaml');
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
    const book = new SqliteBook(join(dir.path, 'x402-ledger.sqlite'), { readonly: true });
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
    const after = new SqliteBook(join(dir.path, 'x402-ledger.sqlite'), { readonly: true });
    const record = after.get(held!.key)!;
    const attempts = after.attempts(held!.key);
    after.close();
    expect(['settled', 'confirmed']).toContain(record.state);
    expect(record.transaction).toBe(transfers[0]!.transactionHash);
    expect(record.deliveredAt).toBeDefined();
    expect(attempts.some((a) => a.delivered && a.status === 200)).toBe(true);
  }, 90_000);
});
