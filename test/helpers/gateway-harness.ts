/**
 * The whole gateway on port 0 between a real loopback upstream and a real loopback facilitator that
 * checks EIP-712 signatures (facilitator-server.ts). Tests talk HTTP to it like any client would
 * (raw-http.ts, pay.ts).
 */
import { loadConfigText } from '../../src/config/index.js';
import { startGateway, type ReloadReport, type RunningGateway } from '../../src/server.js';
import {
  startTestFacilitator,
  type TestFacilitator,
  type TestFacilitatorOptions,
} from './facilitator-server.js';
import { TEST_PAY_TO } from './payments.js';
import { startTestUpstream, type TestUpstream } from './upstream.js';
import { tempDir } from './temp-dir.js';

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
  /** Extra keys of the `facilitator` section, indented by two spaces. */
  readonly facilitatorYaml?: string;
  /**
   * The whole facilitator section instead of `facilitator:` with the harness's own facilitator
   * (a `facilitators:` failover list); given the harness facilitator's URL.
   */
  readonly facilitatorSection?: (harnessFacilitatorUrl: string) => string;
  readonly routesYaml?: string;
  /** Default `forward`; null leaves the key out (the gateway's own default, deny). */
  readonly unpriced?: 'forward' | 'deny' | null;
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
  /** The folder holding this gateway's ledger (`x402-ledger.sqlite`). */
  readonly ledgerDir: string;
  /** The YAML the gateway was started with. */
  readonly yaml: string;
  /** Load `yaml` as the start-up config was loaded (same env and folder) and reload with it. */
  reload(yaml: string): ReloadReport;
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
${
  options.facilitatorSection?.(facilitator.url) ??
  `facilitator:
  url: ${facilitator.url}
  verifyTimeoutMs: 500
  settleTimeoutMs: 800
${options.facilitatorYaml ?? ''}`
}
payment:
  network: base-sepolia
  payTo: "\${PAY_TO}"
  maxTimeoutSeconds: 120
upstream: ${upstream.url}
upstreamTimeoutMs: ${options.upstreamTimeoutMs ?? 700}
${options.unpriced === null ? '' : `unpriced: ${options.unpriced ?? 'forward'}`}
log: { level: silent }
${options.extraYaml ?? ''}
${options.routesYaml ?? ROUTES_YAML}
`;
  // The ledger's default file lands in a folder of this harness's own (the config's folder).
  const dir = tempDir();
  const load = (text: string) =>
    loadConfigText(text, { PAY_TO: TEST_PAY_TO }, 'harness.yaml', { baseDir: dir.path });
  const loaded = load(yaml);
  if (!loaded.ok) throw new Error(`harness config invalid: ${JSON.stringify(loaded.problems)}`);
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(loaded.config, options.log ? { log: options.log } : {});
  } catch (err) {
    // A start that fails (a test of start-up refusals) leaves no server of this harness behind.
    await Promise.all([upstream.close(), facilitator.close()]);
    dir.remove();
    throw err;
  }
  return {
    gateway,
    upstream,
    facilitator,
    url: gateway.url,
    ledgerDir: dir.path,
    yaml,
    reload: (text) => gateway.reload(load(text)),
    async close() {
      await gateway.close();
      await Promise.all([upstream.close(), facilitator.close()]);
      dir.remove();
    },
  };
}
