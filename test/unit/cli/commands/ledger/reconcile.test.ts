/**
 * `x402-gateway ledger reconcile` through the dispatcher (`main(argv)`). Offline: a real SQLite
 * ledger in a temp folder holding a `settling` record, a real devnet (anvil with the EIP-3009 USDC),
 * and the gateway's config naming the RPC (the built-in facilitator's, or `rpcUrls`): the transfer
 * landed → settled; nothing landed and validBefore passed → failed. With `--admin URL`: what a
 * stub admin listener answers is printed, or refused with a clear message. The real admin endpoint
 * of a running gateway is test/integration/admin-reconcile.test.ts.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Address } from 'viem';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../../../src/cli/run.js';
import { SqliteBook, type PaymentFacts } from '../../../../../src/ledger/index.js';
import {
  account,
  freshAddress,
  paymentV2,
  SETTLER_INDEX,
  useDevnet,
  type SignedAuthorization,
} from '../../../../helpers/devnet.js';
import { tempDir, type TempDir } from '../../../../helpers/temp-dir.js';
import { NOTHING_RECONCILED as NONE } from '../../../../../src/payment/index.js';
import { captureOutput, type Captured } from '../../../../helpers/capture-output.js';

const net = useDevnet({ facilitator: {} });
const PRICE = 1_000n;
const ROUTE = 'GET /v1/quote';

let dir: TempDir;
let ledger: string;

beforeEach(() => {
  dir = tempDir('ledger-reconcile-');
  ledger = path.join(dir.path, 'x402-ledger.sqlite');
});
afterEach(() => dir.remove());

/** Run the CLI, capturing what it wrote. */
function cli(...argv: string[]): Promise<Captured> {
  return captureOutput(() => main(argv));
}

interface ConfigOptions {
  /** `local`: the built-in facilitator on the devnet's RPC; `http`: a facilitator URL only. */
  readonly facilitator: 'local' | 'http';
  /** Put the devnet's RPC in `rpcUrls`. */
  readonly rpcUrls?: boolean;
  /** facilitator.local.rpcUrl instead of the devnet's. */
  readonly localRpcUrl?: string;
  /** server.admin (a fixed port makes the command probe it for a running gateway). */
  readonly admin?: string;
}

/** The gateway's config beside the ledger (whose default file is `x402-ledger.sqlite` there). */
function writeConfig(payTo: Address, o: ConfigOptions): string {
  const devnet = net.devnet;
  const facilitator =
    o.facilitator === 'local'
      ? `
  local:
    rpcUrl: ${o.localRpcUrl ?? devnet.rpcUrl}
    privateKey: "${account(devnet, SETTLER_INDEX).privateKey}"
    receiptTimeoutMs: 2000`
      : `
  url: http://127.0.0.1:9`;
  const file = path.join(dir.path, 'gateway.yaml');
  fs.writeFileSync(
    file,
    `
server: { listen: 127.0.0.1:0, admin: ${o.admin ?? '127.0.0.1:0'} }
facilitator:${facilitator}
  settleTimeoutMs: 5000
payment:
  network: ${devnet.network.v1Name}
  payTo: "${payTo}"
  asset: { address: "${devnet.usdc}", decimals: 6, name: USDC, version: "2" }
upstream: http://127.0.0.1:9
log: { level: silent }
${o.rpcUrls === true ? `rpcUrls: { "${devnet.network.caip2}": ${devnet.rpcUrl} }` : ''}
routes:
  "${ROUTE}": { amount: "${PRICE}" }
`,
  );
  return file;
}

/** The record a gateway writes before `/settle`, for this signed authorization. */
function factsOf(signed: SignedAuthorization, request: unknown): PaymentFacts {
  const a = signed.authorization;
  const asset = net.devnet.usdc.toLowerCase();
  const payer = a.from.toLowerCase();
  return {
    key: `${net.devnet.chainId}:${asset}:${payer}:${a.nonce}`,
    digest: `digest-${a.nonce}`,
    x402Version: 2,
    route: ROUTE,
    method: 'GET',
    path: '/v1/quote',
    network: net.devnet.network.caip2,
    asset,
    decimals: 6,
    payTo: a.to.toLowerCase(),
    payer,
    amount: a.value,
    nonce: a.nonce,
    validBefore: Number(a.validBefore),
    request: JSON.stringify(request),
  };
}

/** A ledger file holding `facts` in `settling` (a gateway stopped during its settlement). */
function writeSettling(facts: PaymentFacts, at = Date.now() - 60_000): void {
  const book = new SqliteBook(ledger);
  try {
    const [result] = book.write([{ op: 'begin', facts, at }]);
    expect(result).toEqual({ kind: 'begun', from: undefined });
  } finally {
    book.close();
  }
}

function stateOf(key: string): { state: string; transaction: string | undefined } {
  const book = new SqliteBook(ledger, { readonly: true });
  try {
    const r = book.get(key)!;
    return { state: r.state, transaction: r.transaction };
  } finally {
    book.close();
  }
}

/** A table row: its cells separated by runs of spaces. */
const row = (...cells: string[]) =>
  new RegExp(`^${cells.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join(' +')}$`, 'm');

describe('ledger reconcile --config (offline, against a stopped gateway)', () => {
  it('our transfer landed while the gateway was down: settling → settled, with its hash', async () => {
    const payTo = freshAddress();
    const { request, signed } = await paymentV2(net.devnet, account(net.devnet, 1), payTo, PRICE);
    // The facilitator settles on chain; the gateway "crashed" before writing the answer.
    const settled = await net.facilitator.settle(request);
    if (settled.kind !== 'ok' || !settled.value.success) throw new Error('settlement failed');
    const tx = settled.value.transaction;
    const facts = factsOf(signed, request);
    writeSettling(facts);
    const config = writeConfig(payTo, { facilitator: 'local' }); // the chain id is read from its RPC

    const { code, stdout, stderr } = await cli('ledger', 'reconcile', '--config', config);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toContain(`ledger ${ledger}: one reconciliation pass, offline`);
    expect(stdout).toMatch(row('OUTCOME', 'COUNT'));
    expect(stdout).toMatch(row('settled', '1'));
    expect(stdout).toMatch(row('failed', '0'));
    expect(stdout).toMatch(row('no_rpc', '0'));
    expect(stdout).toMatch(
      row(facts.key, 'settling', 'settled', tx, 'the chain shows our transfer'),
    );
    expect(stateOf(facts.key)).toEqual({ state: 'settled', transaction: tx });

    // A second pass (confirmations: 1 by default): the settled record is confirmed.
    const again = await cli('ledger', 'reconcile', '--config', config, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      ledger,
      outcomes: { ...NONE, confirmed: 1 },
      moved: [{ key: facts.key, from: 'settled', to: 'confirmed', transaction: tx }],
    });
    expect(stateOf(facts.key).state).toBe('confirmed');
  });

  it('nothing landed and validBefore passed: settling → failed (rpcUrls; --ledger; --json)', async () => {
    const payTo = freshAddress();
    const { request, signed } = await paymentV2(net.devnet, account(net.devnet, 2), payTo, PRICE, {
      validBeforeOffset: -5,
    });
    const facts = factsOf(signed, request);
    const elsewhere = path.join(dir.path, 'elsewhere.sqlite');
    ledger = elsewhere;
    writeSettling(facts);
    const config = writeConfig(payTo, { facilitator: 'http', rpcUrls: true });

    const { code, stdout, stderr } = await cli(
      'ledger',
      'reconcile',
      '--config',
      config,
      '--ledger',
      elsewhere,
      '--json',
    );
    expect([code, stderr]).toEqual([0, '']);
    expect(JSON.parse(stdout)).toEqual({
      ledger: elsewhere,
      outcomes: { ...NONE, failed: 1 },
      moved: [
        {
          key: facts.key,
          from: 'settling',
          to: 'failed',
          detail: 'the nonce is unused and validBefore has passed',
        },
      ],
    });
    expect(stateOf(facts.key).state).toBe('failed');
  });

  it('no network has an RPC URL: exit 1, nothing read', async () => {
    writeSettling(factsOf(...(await unsubmitted())));
    const httpOnly = writeConfig(freshAddress(), { facilitator: 'http' });
    const r = await cli('ledger', 'reconcile', '--config', httpOnly);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `ledger reconcile: no network has an RPC URL in ${httpOnly}: give rpcUrls entries ` +
        '(CAIP-2 network → URL) or a facilitator.local.rpcUrl that answers\n',
    );

    // The built-in facilitator's RPC does not answer: said, then the same refusal.
    const deadRpc = writeConfig(freshAddress(), {
      facilitator: 'local',
      localRpcUrl: 'http://127.0.0.1:1',
    });
    const dead = await cli('ledger', 'reconcile', '--config', deadRpc);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(
      /^ledger reconcile: warning: cannot read the chain id of facilitator\.local\.rpcUrl \(http:\/\/127\.0\.0\.1:1\): .+\nledger reconcile: no network has an RPC URL/,
    );
  });

  it('the ledger cannot be opened: exit 1 (a missing file is never created)', async () => {
    const config = writeConfig(freshAddress(), { facilitator: 'http', rpcUrls: true });
    const r = await cli('ledger', 'reconcile', '--config', config);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `ledger reconcile: no ledger at ${ledger}: the file does not exist\n`,
    });
    expect(fs.existsSync(ledger)).toBe(false);

    fs.writeFileSync(ledger, 'not a database, just text that is long enough to be read as one');
    const garbage = await cli('ledger', 'reconcile', '--config', config);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toMatch(/^ledger reconcile: cannot open the ledger at .+: .+\n$/);
  });

  it('a gateway answering on the config admin port: warned, and a young settling record left to it', async () => {
    const stub = await startStub((req, res) => {
      if (req.url === '/healthz') res.writeHead(200).end('{"status":"ok"}');
      else res.writeHead(404).end();
    });
    try {
      const payTo = freshAddress();
      const facts = factsOf(...(await unsubmitted(payTo)));
      writeSettling(facts, Date.now()); // its request may still be running in that gateway
      const config = writeConfig(payTo, {
        facilitator: 'http',
        rpcUrls: true,
        admin: `127.0.0.1:${stub.port}`,
      });
      const r = await cli('ledger', 'reconcile', '--config', config, '--json');
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`a gateway answers at http://127.0.0.1:${stub.port}`);
      expect(r.stderr).toContain(`prefer: ledger reconcile --admin http://127.0.0.1:${stub.port}`);
      expect(JSON.parse(r.stdout)).toEqual({ ledger, outcomes: NONE, moved: [] });
      expect(stateOf(facts.key).state).toBe('settling');
    } finally {
      await stub.close();
    }
  });
});

describe('ledger reconcile --admin (a running gateway)', () => {
  it('POSTs to URL/ledger/reconcile and prints the counts', async () => {
    const seen: string[] = [];
    const stub = await startStub((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ outcomes: { ...NONE, settled: 2, no_rpc: 1 } }));
    });
    try {
      const base = `http://127.0.0.1:${stub.port}`;
      const text = await cli('ledger', 'reconcile', '--admin', `${base}/`);
      expect([text.code, text.stderr]).toEqual([0, '']);
      expect(text.stdout).toContain(
        `gateway ${base}: one reconciliation pass, by the gateway's own reconciler`,
      );
      expect(text.stdout).toMatch(row('settled', '2'));
      expect(text.stdout).toMatch(row('no_rpc', '1'));
      const json = await cli('ledger', 'reconcile', '--admin', base, '--json');
      expect(JSON.parse(json.stdout)).toEqual({
        admin: base,
        outcomes: { ...NONE, settled: 2, no_rpc: 1 },
      });
      expect(seen).toEqual(['POST /ledger/reconcile', 'POST /ledger/reconcile']);
    } finally {
      await stub.close();
    }
  });

  it('a gateway without a ledger, a listener that is not one, nothing listening: exit 1', async () => {
    let answer: [number, string] = [404, '{"error":"no ledger (ledger: false)"}'];
    const stub = await startStub((_req, res) => res.writeHead(answer[0]).end(answer[1]));
    const base = `http://127.0.0.1:${stub.port}`;
    try {
      const noLedger = await cli('ledger', 'reconcile', '--admin', base);
      expect(noLedger).toEqual({
        code: 1,
        stdout: '',
        stderr: `ledger reconcile: the gateway at ${base} runs without a ledger (ledger: false): nothing to reconcile\n`,
      });
      answer = [404, '{"error":"not found"}'];
      expect((await cli('ledger', 'reconcile', '--admin', base)).stderr).toContain(
        'answered 404: not an x402-gateway admin listener, or one older than this command',
      );
      answer = [500, '{"error":"reconciliation pass failed: the ledger is unavailable"}'];
      expect((await cli('ledger', 'reconcile', '--admin', base)).stderr).toBe(
        `ledger reconcile: the gateway at ${base} could not reconcile: reconciliation pass failed: the ledger is unavailable\n`,
      );
    } finally {
      await stub.close();
    }
    const gone = await cli('ledger', 'reconcile', '--admin', base);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(
      new RegExp(`^ledger reconcile: cannot reach the gateway's admin listener at ${base}: .+`),
    );
  });

  it('usage errors: exit 2', async () => {
    for (const argv of [
      ['ledger', 'reconcile'],
      ['ledger', 'reconcile', '--ledger', ledger],
      ['ledger', 'reconcile', '--admin', 'http://127.0.0.1:9402', '--config', 'gateway.yaml'],
      ['ledger', 'reconcile', '--admin', 'not a url'],
      ['ledger', 'reconcile', '--admin', 'ftp://127.0.0.1:9402'],
      ['ledger', 'reconcile', 'extra', '--admin', 'http://127.0.0.1:9402'],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^ledger reconcile: .+\n\nusage: x402-gateway ledger/);
    }
  });
});

/** A signed authorization never submitted, its validBefore passed. */
async function unsubmitted(payTo = freshAddress()): Promise<[SignedAuthorization, unknown]> {
  const { request, signed } = await paymentV2(net.devnet, account(net.devnet, 3), payTo, PRICE, {
    validBeforeOffset: -5,
  });
  return [signed, request];
}

async function startStub(
  handler: http.RequestListener,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
