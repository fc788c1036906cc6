/**
 * Issue 15's fleet proof for revenue: "on-chain transfers to payTo == Postgres ledger settled total
 * == revenue read from the gateways at the end (each initialised from the ledger at start)". Two
 * gateways (in-process, `server.instance` gw-a and gw-b) share one real Postgres book and one
 * Redis, and settle on a devnet through the built-in facilitator over HTTP, which really
 * broadcasts. Each settled record is owned by the instance that counted it; at start an instance
 * seeds its revenue counter from what it owns, and adopts (and counts) the paid records nobody
 * owns: here one an operator resolved with `ledger resolve` while both ran.
 *
 * Pay twice through each; the operator's record (its transfer landed, its answer lost) is counted
 * by nobody yet; restart A (it seeds its two and adopts the operator's); pay once more through
 * each. Then chain == book == A + B, and each instance's counter is exactly what it owns. Seeding
 * every instance from the whole book (before owners) makes A + B count A's restart seed twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/run.js';
import { loadConfigText } from '../../../src/config/index.js';
import { PAID_STATES, PostgresLedger } from '../../../src/ledger/index.js';
import { startGateway, type RunningGateway } from '../../../src/server.js';
import { captureOutput } from '../../helpers/capture-output.js';
import {
  account,
  freshAddress,
  newPayer,
  paymentV2,
  transfersTo,
  useDevnet,
} from '../../helpers/devnet.js';
import { payWith, signFor } from '../../helpers/pay.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres-server.js';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { startTestUpstream, type TestUpstream } from '../../helpers/upstream.js';

const PRICE = 3_000n;
const ROUTE = 'GET /v1/items/:id';

const net = useDevnet({ facilitator: { http: true } });
const dir = tempDir();
const payTo: Address = freshAddress();
let redis: RedisServer;
let postgres: PostgresServer;
let upstream: TestUpstream;
let ledgerUrl: string;
/** What the book holds (a store with no owner: it counts nothing). */
let book: PostgresLedger;
const gateways: Record<'a' | 'b', RunningGateway | undefined> = { a: undefined, b: undefined };

function yaml(instance: string): string {
  const devnet = net.devnet;
  return `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, shutdownTimeoutMs: 2000, instance: ${instance} }
facilitator:
  url: ${net.facilitatorServer.url}
  verifyTimeoutMs: 5000
  settleTimeoutMs: 10000
payment:
  network: ${devnet.network.v1Name}
  payTo: "${payTo}"
  maxTimeoutSeconds: 120
  asset: { address: "${devnet.usdc}", decimals: 6, name: USDC, version: "2" }
upstream: ${upstream.url}
log: { level: silent }
store:
  redis: { url: "${redis.url}", commandTimeoutMs: 1000 }
ledger:
  postgres: { url: "${ledgerUrl}" }
  reconcileIntervalSeconds: 3600
routes:
  "${ROUTE}": { amount: "${PRICE}" }
`;
}

async function start(name: 'a' | 'b'): Promise<RunningGateway> {
  const loaded = loadConfigText(yaml(`gw-${name}`), {}, `${name}.yaml`, { baseDir: dir.path });
  if (!loaded.ok) throw new Error(`${name}: config invalid: ${JSON.stringify(loaded.problems)}`);
  const gateway = await startGateway(loaded.config);
  gateways[name] = gateway;
  return gateway;
}

beforeAll(async () => {
  [redis, postgres, upstream] = await Promise.all([
    startRedis(),
    startPostgres(),
    startTestUpstream(),
  ]);
  ledgerUrl = await postgres.createSchema('revenue');
  await Promise.all([start('a'), start('b')]);
  book = new PostgresLedger({ url: ledgerUrl });
  await book.open();
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([gateways.a?.close(), gateways.b?.close()]);
  await book?.close().catch(() => undefined);
  await Promise.allSettled([upstream?.close(), redis?.remove(), postgres?.remove()]);
  dir.remove();
}, 30_000);

/** Sum of `x402_gateway_revenue_atomic_total` on one instance's /metrics (every series). */
async function revenueOn(gw: RunningGateway): Promise<bigint> {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
  let sum = 0n;
  for (const line of text.split('\n')) {
    if (line.startsWith('x402_gateway_revenue_atomic_total{')) {
      sum += BigInt(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** The book's paid total (settled|confirmed|disputed), every owner's and nobody's. */
async function bookPaid(): Promise<bigint> {
  const records = await book.list({ states: PAID_STATES });
  return records.reduce((sum, r) => sum + BigInt(r.amount), 0n);
}

async function onChain(): Promise<bigint> {
  return (await transfersTo(net.devnet, payTo)).reduce((sum, t) => sum + t.value, 0n);
}

let paid = 0;
/** One paid request through `gw`, by a fresh payer: served. */
async function pay(gw: RunningGateway): Promise<void> {
  paid += 1;
  const payer = await newPayer(net.devnet, PRICE);
  const itemPath = `/v1/items/rev-${paid}`;
  const payment = await signFor(gw.url, itemPath, { account: payer.account });
  const r = await payWith(gw.url, itemPath, payment);
  expect(r.status, itemPath).toBe(200);
}

/**
 * A payment whose transfer landed but whose answer was lost (`unknown` in the book), which the
 * operator resolves as settled with `ledger resolve` while the gateways run: owned by nobody.
 */
async function operatorResolved(): Promise<string> {
  const devnet = net.devnet;
  const { request, signed } = await paymentV2(devnet, account(devnet, 3), payTo, PRICE);
  const settled = await net.facilitator.settle(request);
  if (settled.kind !== 'ok' || !settled.value.success) throw new Error('settlement failed');
  const a = signed.authorization;
  const key = `${devnet.chainId}:${devnet.usdc.toLowerCase()}:${a.from.toLowerCase()}:${a.nonce}`;
  await book.begin(
    {
      key,
      digest: `digest-${a.nonce}`,
      x402Version: 2,
      route: ROUTE,
      method: 'GET',
      path: '/v1/items/lost',
      network: devnet.network.caip2,
      asset: devnet.usdc,
      decimals: 6,
      payTo,
      payer: a.from,
      amount: a.value,
      nonce: a.nonce,
      validBefore: Number(a.validBefore),
      request: JSON.stringify(request),
    },
    Date.now() - 60_000,
  );
  await book.change(key, ['settling'], { state: 'unknown', detail: 'answer lost' });
  const config = path.join(dir.path, 'operator.yaml');
  fs.writeFileSync(
    config,
    `upstream: http://127.0.0.1:9\nroutes:\n  "GET /free": 0\nledger: { postgres: { url: "${ledgerUrl}" } }\n`,
  );
  const r = await captureOutput(() =>
    main(['ledger', 'resolve', key, '--as', 'settled', '--note', 'tx on chain', '-c', config]),
  );
  expect([r.code, r.stderr]).toEqual([0, '']);
  return key;
}

describe('revenue on a fleet: each instance seeds what it owns', () => {
  it('chain == book == A + B, across a restart of A and an operator-resolved payment', async () => {
    const { a, b } = gateways as Record<'a' | 'b', RunningGateway>;
    await pay(a);
    await pay(a);
    await pay(b);
    await pay(b);
    const lost = await operatorResolved();
    expect((await book.get(lost))?.owner).toBeUndefined();
    expect(await revenueOn(a)).toBe(2n * PRICE);
    expect(await revenueOn(b)).toBe(2n * PRICE);
    // The operator's payment is in the book and on chain, and no running instance counted it.
    expect(await bookPaid()).toBe(5n * PRICE);
    expect(await onChain()).toBe(5n * PRICE);
    const owners = (await book.list({ states: PAID_STATES })).map((r) => r.owner ?? null).sort();
    expect(owners).toEqual(['gw-a', 'gw-a', 'gw-b', 'gw-b', null]);

    // A restarts: it starts from the two it owns, and adopts (and counts) the operator's.
    await a.close();
    const a2 = await start('a');
    expect(await revenueOn(a2)).toBe(3n * PRICE);
    expect((await book.get(lost))?.owner).toBe('gw-a');

    await pay(a2);
    await pay(b);
    const [chain, ledger, onA, onB] = await Promise.all([
      onChain(),
      bookPaid(),
      revenueOn(a2),
      revenueOn(b),
    ]);
    expect(chain).toBe(7n * PRICE);
    expect(ledger).toBe(chain);
    expect(onA + onB).toBe(ledger);
    expect([onA, onB]).toEqual([4n * PRICE, 3n * PRICE]);
    // Each counter is exactly what its instance owns in the book.
    const owned = async (owner: string) =>
      (await book.revenue({ owner })).reduce((sum, t) => sum + BigInt(t.amount), 0n);
    expect([await owned('gw-a'), await owned('gw-b')]).toEqual([onA, onB]);
    // `ledger report --by owner` shows the same split (nothing left unowned).
    const report = await captureOutput(() =>
      main([
        'ledger',
        'report',
        '--by',
        'owner',
        '--json',
        '-c',
        path.join(dir.path, 'operator.yaml'),
      ]),
    );
    expect(report.code).toBe(0);
    const groups = (
      JSON.parse(report.stdout) as { groups: Array<{ group: string; amount: string }> }
    ).groups;
    expect(groups.map((g) => [g.group, BigInt(g.amount)])).toEqual([
      ['gw-a', onA],
      ['gw-b', onB],
    ]);
  }, 60_000);
});
