/**
 * The whole gateway on port 0 between a real loopback upstream and a real loopback facilitator that
 * checks EIP-712 signatures. Tests talk HTTP to it like any client would.
 */
import http from 'node:http';
import { loadConfigText } from '../../../src/config/index.js';
import { startGateway, type RunningGateway } from '../../../src/server.js';
import {
  startTestFacilitator,
  type TestFacilitator,
  type TestFacilitatorOptions,
} from '../../helpers/facilitator-server.js';
import { TEST_PAY_TO } from '../../helpers/payments.js';
import { startTestUpstream, type TestUpstream } from './upstream.js';

export const ROUTES_YAML = `
routes:
  "GET /v1/quote": "$0.001"
  "POST /v1/vision":
    price: "$0.01"
    description: AI image analysis
    mimeType: application/json
  "GET /v1/items/:id": "$0.002"
  "/v1/search/*": "$0.0005"
  "GET /v1/health": 0
  "GET /v1/fail": "$0.001"
  "GET /v1/missing": "$0.001"
  "GET /v1/slow": "$0.001"
  "GET /v1/big":
    price: "$0.001"
    settle: { mode: buffer, maxBufferBytes: 1024 }
`;

export interface HarnessOptions {
  readonly facilitator?: TestFacilitatorOptions;
  /** Extra top-level YAML (merged by text: must not repeat keys set here). */
  readonly extraYaml?: string;
  readonly serverYaml?: string;
  readonly routesYaml?: string;
  readonly unpriced?: 'forward' | 'deny';
  readonly upstreamTimeoutMs?: number;
  /** Logger for the gateway (default: the config's, which is silent here). */
  readonly log?: import('pino').Logger;
}

export interface Harness {
  readonly gateway: RunningGateway;
  readonly upstream: TestUpstream;
  readonly facilitator: TestFacilitator;
  /** Gateway base URL. */
  readonly url: string;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const upstream = await startTestUpstream();
  const facilitator = await startTestFacilitator(options.facilitator);
  const yaml = `
server:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  shutdownTimeoutMs: 3000
${options.serverYaml ?? ''}
facilitator:
  url: ${facilitator.url}
  verifyTimeoutMs: 500
  settleTimeoutMs: 800
payment:
  network: base-sepolia
  payTo: "\${PAY_TO}"
  maxTimeoutSeconds: 120
upstream: ${upstream.url}
upstreamTimeoutMs: ${options.upstreamTimeoutMs ?? 700}
unpriced: ${options.unpriced ?? 'forward'}
log: { level: silent }
${options.extraYaml ?? ''}
${options.routesYaml ?? ROUTES_YAML}
`;
  const loaded = loadConfigText(yaml, { PAY_TO: TEST_PAY_TO }, 'harness.yaml');
  if (!loaded.ok) throw new Error(`harness config invalid: ${JSON.stringify(loaded.problems)}`);
  const gateway = await startGateway(loaded.config, options.log ? { log: options.log } : {});
  return {
    gateway,
    upstream,
    facilitator,
    url: gateway.url,
    async close() {
      await gateway.close();
      await Promise.all([upstream.close(), facilitator.close()]);
    },
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A request with the path sent byte for byte (fetch would normalise `..`, `\\` and `//`). */
export function rawRequest(
  base: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('test request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Decode a base64 JSON header. */
export function decodeHeader(value: string | string[] | undefined): Record<string, unknown> {
  if (typeof value !== 'string') throw new Error(`header missing: ${String(value)}`);
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as Record<string, unknown>;
}
