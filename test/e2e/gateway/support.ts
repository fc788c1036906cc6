/**
 * The real money path for the gateway e2e tests: an anvil devnet (one per test file, port 0), the
 * gateway on port 0 in front of the recording upstream, settling through the built-in facilitator
 * either in-process (`facilitator.local`) or over HTTP (`startFacilitatorServer`). No fakes: every
 * payment is a real EIP-3009 signature and every settlement a real transfer, read back on-chain.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseAbiItem, type Address, type Hex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { loadConfigText } from '../../../src/config/index.js';
import { fundAccount } from '../../../src/devnet/devnet.js';
import {
  createLocalFacilitator,
  startFacilitatorServer,
  type FacilitatorServer,
  type LocalFacilitator,
} from '../../../src/facilitator/index.js';
import { startGateway, type RunningGateway } from '../../../src/server.js';
import { startTestUpstream, type TestUpstream } from '../../integration/support/upstream.js';
import {
  account,
  freshAddress,
  publicClient,
  startTestDevnet,
  type Devnet,
} from '../devnet/setup.js';

export { authorizationState, balanceOf, startTestDevnet, type Devnet } from '../devnet/setup.js';

/** How the gateway reaches the built-in facilitator. */
export type Mode = 'local' | 'http';
export const MODES: readonly Mode[] = ['local', 'http'];

/** Settler (gas payer) per mode: two signers on one chain must not share an account nonce. */
const SETTLER_INDEX: Readonly<Record<Mode, number>> = { local: 9, http: 8 };

export const ROUTES_YAML = `
routes:
  "GET /v1/quote": "$0.001"
  "GET /v1/items/:id": "$0.002"
  "GET /v1/health": 0
`;

/** Atomic USDC units of the routes above. */
export const PRICE = { quote: 1_000n, item: 2_000n } as const;

export interface StackOptions {
  readonly verifyTimeoutMs?: number;
  readonly settleTimeoutMs?: number;
  /** `local` only. */
  readonly receiptTimeoutMs?: number;
  readonly routesYaml?: string;
}

export interface Stack {
  readonly mode: Mode;
  readonly devnet: Devnet;
  readonly gateway: RunningGateway;
  readonly upstream: TestUpstream;
  /** Gateway base URL. */
  readonly url: string;
  /** A fresh address that receives this stack's payments (nothing else pays it). */
  readonly payTo: Address;
  close(): Promise<void>;
}

/** Gateway + recording upstream (+ facilitator server in `http` mode) on `devnet`. */
export async function startStack(devnet: Devnet, mode: Mode, o: StackOptions = {}): Promise<Stack> {
  const settlerKey = account(devnet, SETTLER_INDEX[mode]).privateKey;
  const payTo = freshAddress();
  const upstream = await startTestUpstream();
  let facilitator: LocalFacilitator | undefined;
  let server: FacilitatorServer | undefined;
  let facilitatorYaml: string;
  if (mode === 'local') {
    facilitatorYaml = `
  local:
    rpcUrl: ${devnet.rpcUrl}
    privateKey: "\${SETTLER_KEY}"
    receiptTimeoutMs: ${o.receiptTimeoutMs ?? 8_000}
    pollingIntervalMs: 50`;
  } else {
    facilitator = await createLocalFacilitator({
      rpcUrl: devnet.rpcUrl,
      privateKey: settlerKey,
      receiptTimeoutMs: 8_000,
      pollingIntervalMs: 50,
    });
    server = await startFacilitatorServer({ facilitator, host: '127.0.0.1', port: 0 });
    facilitatorYaml = `
  url: ${server.url}`;
  }
  const yaml = `
server:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  shutdownTimeoutMs: 5000
facilitator:${facilitatorYaml}
  verifyTimeoutMs: ${o.verifyTimeoutMs ?? 5_000}
  settleTimeoutMs: ${o.settleTimeoutMs ?? 10_000}
payment:
  network: base-sepolia
  payTo: "\${PAY_TO}"
  maxTimeoutSeconds: 120
upstream: ${upstream.url}
upstreamTimeoutMs: 5000
log: { level: silent }
${o.routesYaml ?? ROUTES_YAML}
`;
  const loaded = loadConfigText(yaml, { PAY_TO: payTo, SETTLER_KEY: settlerKey }, `e2e-${mode}.yaml`);
  if (!loaded.ok) throw new Error(`e2e config invalid: ${JSON.stringify(loaded.problems)}`);
  const gateway = await startGateway(loaded.config);
  return {
    mode,
    devnet,
    gateway,
    upstream,
    url: gateway.url,
    payTo,
    async close() {
      await gateway.close();
      await server?.close();
      await facilitator?.close();
      await upstream.close();
    },
  };
}

export interface Payer {
  readonly account: LocalAccount;
  readonly privateKey: Hex;
  readonly address: Address;
}

/** A fresh payer holding exactly `amount` token units (and no ETH: EIP-3009 is gasless). */
export async function newPayer(devnet: Devnet, amount: bigint): Promise<Payer> {
  const privateKey: Hex = `0x${randomBytes(32).toString('hex')}`;
  const acct = privateKeyToAccount(privateKey);
  if (amount > 0n) await fundAccount(devnet, acct.address, amount);
  return { account: acct, privateKey, address: acct.address };
}

const TRANSFER = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 value)');

export interface TransferLog {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly transactionHash: Hex;
}

/** Every token Transfer event to `to`, from the chain's logs. */
export async function transfersTo(devnet: Devnet, to: Address): Promise<TransferLog[]> {
  const logs = await publicClient(devnet).getLogs({
    address: devnet.usdc,
    event: TRANSFER,
    args: { to },
    fromBlock: 0n,
    toBlock: 'latest',
  });
  return logs.map((l) => ({
    from: l.args.from!,
    to: l.args.to!,
    value: l.args.value!,
    transactionHash: l.transactionHash,
  }));
}

/** Sum of `x402_gateway_revenue_atomic_total` for `payTo` on the admin /metrics. */
export async function revenueOnMetrics(stack: Stack): Promise<bigint> {
  const text = await (await fetch(`${stack.gateway.adminUrl}/metrics`)).text();
  let sum = 0n;
  for (const line of text.split('\n')) {
    if (!line.startsWith('x402_gateway_revenue_atomic_total{')) continue;
    if (!line.includes(`pay_to="${stack.payTo}"`)) continue;
    sum += BigInt(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Upstream requests whose URL starts with `path`. */
export function upstreamCalls(stack: Stack, path: string): number {
  return stack.upstream.calls.filter((c) => c.url.startsWith(path)).length;
}

/** The authorization inside a decoded payment payload (v1 or v2). */
export function authorizationOf(payload: unknown): { from: Address; nonce: Hex } {
  return (payload as { payload: { authorization: { from: Address; nonce: Hex } } }).payload.authorization;
}

/** The official v1 client, installed in its own package folder (test/e2e/v1-client). */
export interface V1FetchModule {
  wrapFetchWithPayment(
    fetchFn: typeof fetch,
    signer: unknown,
    maxValue?: bigint,
  ): (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  createSigner(network: string, privateKey: Hex): Promise<unknown>;
  decodeXPaymentResponse(header: string): { success: boolean; transaction: Hex; network: string; payer: Address };
}

const V1_CLIENT_DIR = fileURLToPath(new URL('../v1-client/', import.meta.url));

/** Load `x402-fetch` from test/e2e/v1-client/node_modules, or say how to install it. */
export async function loadV1Client(): Promise<V1FetchModule> {
  let entry: string;
  try {
    entry = createRequire(`${V1_CLIENT_DIR}package.json`).resolve('x402-fetch');
  } catch {
    throw new Error(
      'x402-fetch is not installed: run `npm ci --prefix test/e2e/v1-client --no-audit --no-fund` (CI does)',
    );
  }
  // require.resolve picks the CommonJS entry; the package's ESM build sits next to it.
  const esm = entry.replace(/[\\/]cjs[\\/]index\.js$/, '/esm/index.mjs');
  return (await import(pathToFileURL(esm).href)) as V1FetchModule;
}

/**
 * One devnet and a gateway stack per facilitator mode for the calling test file, started before
 * its tests and stopped after them. Read `suite.devnet` and `suite.stacks` inside tests.
 */
export interface DevnetSuite {
  devnet: Devnet;
  readonly stacks: Map<Mode, Stack>;
}

export function useDevnetSuite(): DevnetSuite {
  const suite = { stacks: new Map<Mode, Stack>() } as DevnetSuite;
  beforeAll(async () => {
    suite.devnet = await startTestDevnet();
    for (const mode of MODES) suite.stacks.set(mode, await startStack(suite.devnet, mode));
  });
  afterAll(async () => {
    for (const stack of suite.stacks.values()) await stack.close();
    await (suite.devnet as Devnet | undefined)?.stop();
  });
  return suite;
}
