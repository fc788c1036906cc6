/**
 * The real money path for the gateway e2e tests: on the file's devnet (devnet.ts), the gateway on
 * port 0 in front of the recording upstream (upstream.ts), settling through the built-in
 * facilitator either in-process (`facilitator.local`) or over HTTP (`startFacilitatorServer`). No
 * fakes: every payment is a real EIP-3009 signature and every settlement a real transfer, read back
 * on-chain.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Address } from 'viem';
import { loadConfigText } from '../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../src/server.js';
import {
  account,
  freshAddress,
  startBuiltInFacilitator,
  useDevnet,
  type BuiltInFacilitator,
  type Devnet,
  type DevnetOptions,
} from './devnet.js';
import { startTestUpstream, type TestUpstream } from './upstream.js';
import { tempDir } from './temp-dir.js';

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
  /** The built-in facilitator's receipt wait (in-process or over HTTP). */
  readonly receiptTimeoutMs?: number;
  /** Give the gateway the devnet's RPC in `rpcUrls`, so it can read the chain itself. */
  readonly rpcUrls?: boolean;
  readonly routesYaml?: string;
  /**
   * The folder of the gateway's ledger: give one to restart a gateway on the same book (it is
   * then the caller's to remove). Default: a fresh folder removed on close.
   */
  readonly ledgerDir?: string;
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
  let builtIn: BuiltInFacilitator | undefined;
  let facilitatorYaml: string;
  if (mode === 'local') {
    facilitatorYaml = `
  local:
    rpcUrl: ${devnet.rpcUrl}
    privateKey: "\${SETTLER_KEY}"
    receiptTimeoutMs: ${o.receiptTimeoutMs ?? 8_000}
    pollingIntervalMs: 50`;
  } else {
    builtIn = await startBuiltInFacilitator(devnet, {
      settlerIndex: SETTLER_INDEX[mode],
      receiptTimeoutMs: o.receiptTimeoutMs ?? 8_000,
      http: true,
    });
    facilitatorYaml = `
  url: ${builtIn.server!.url}`;
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
${o.rpcUrls === true ? `rpcUrls: { "${devnet.network.caip2}": ${devnet.rpcUrl} }` : ''}
${o.routesYaml ?? ROUTES_YAML}
`;
  const dir = o.ledgerDir === undefined ? tempDir() : undefined;
  const loaded = loadConfigText(
    yaml,
    { PAY_TO: payTo, SETTLER_KEY: settlerKey },
    `e2e-${mode}.yaml`,
    { baseDir: o.ledgerDir ?? dir!.path },
  );
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
      await builtIn?.close();
      await upstream.close();
      dir?.remove();
    },
  };
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

/**
 * The calling test file's devnet (`useDevnet`) and a gateway stack on it per facilitator mode,
 * started before its tests and stopped after them (stacks first, then the devnet). Read
 * `suite.devnet` and `suite.stacks` inside tests.
 */
export interface GatewaySuite {
  readonly devnet: Devnet;
  readonly stacks: ReadonlyMap<Mode, Stack>;
  /** The stack of `mode` (one of the suite's modes). */
  stack(mode: Mode): Stack;
}

export interface GatewaySuiteOptions {
  /** Default MODES (both). */
  readonly modes?: readonly Mode[];
  readonly devnet?: Omit<DevnetOptions, 'facilitator'>;
  readonly stack?: StackOptions;
}

export function useGatewaySuite(o: GatewaySuiteOptions = {}): GatewaySuite {
  const net = useDevnet(o.devnet);
  const stacks = new Map<Mode, Stack>();
  beforeAll(async () => {
    for (const mode of o.modes ?? MODES)
      stacks.set(mode, await startStack(net.devnet, mode, o.stack));
  });
  afterAll(async () => {
    for (const stack of stacks.values()) await stack.close();
  });
  return {
    get devnet() {
      return net.devnet;
    },
    stacks,
    stack(mode) {
      const stack = stacks.get(mode);
      if (stack === undefined)
        throw new Error(`no ${mode} stack (started in beforeAll, for the suite's modes)`);
      return stack;
    },
  };
}
