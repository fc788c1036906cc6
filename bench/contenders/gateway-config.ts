/** The gateway's YAML config for a benchmark run (the shape of the gateway's config schema). */
import { NETWORK_V1, PAY_TO, POOL_MAX_VALID_SECONDS, PRICE } from '../constants.js';

export interface GatewayConfigInput {
  readonly port: number;
  readonly adminPort: number;
  readonly facilitatorPort: number;
  readonly upstreamPort: number;
  /** Extra generated routes for the scale scenarios (0 = just /free and /paid). */
  readonly routes: number;
  /** `log.level` ('' = leave the key out). */
  readonly logLevel: string;
  /** The ledger's SQLite file, one per SUT process; false = `ledger: false`. */
  readonly ledger: string | false;
  /** Write the `rateLimits` key (default true; a gateway older than the key refuses it). */
  readonly rateLimits?: boolean;
  /** `store: { redis: { url } }` (undefined = the in-memory replay store). */
  readonly redisUrl?: string;
  /** `server.workers` (undefined = leave the key out: one process). */
  readonly workers?: number;
}

export function gatewayYaml(c: GatewayConfigInput): string {
  const lines = [
    // The load generator is one client address holding every connection (1 000 idle ones
    // included): the per-address share of connections (maxClientShare × maxInFlight, default
    // 25% of 1 024) would refuse most of them. In-flight stays far below either cap.
    `server: { listen: "127.0.0.1:${c.port}", admin: "127.0.0.1:${c.adminPort}", limits: { maxClientShare: 1, maxInFlight: 4096 }${c.workers === undefined ? '' : `, workers: ${c.workers}`} }`,
    `facilitator: { url: "http://127.0.0.1:${c.facilitatorPort}" }`,
    // Covers the pre-signed pool's validity (validBefore up to 7 days ahead): the gateway refuses a
    // validBefore further ahead than maxTimeoutSeconds + 30 s.
    `payment: { network: ${NETWORK_V1}, payTo: "${PAY_TO}", maxTimeoutSeconds: ${POOL_MAX_VALID_SECONDS} }`,
    `upstream: "http://127.0.0.1:${c.upstreamPort}"`,
  ];
  if (c.rateLimits !== false) {
    // The same one client address asks for every 402: the rate limits stay on (their checks are
    // part of the measured path) with rates no run reaches.
    lines.push(
      `rateLimits: { challengesPerSecond: { perClient: 10000000, burst: 10000000 }, failuresPerMinute: { perClient: 10000000, perPayer: 10000000 } }`,
    );
  }
  if (c.redisUrl !== undefined) lines.push(`store: { redis: { url: "${c.redisUrl}" } }`);
  if (c.logLevel !== '') lines.push(`log: { level: ${c.logLevel} }`);
  lines.push(
    c.ledger === false
      ? 'ledger: false'
      : `ledger: { sqlite: { path: ${JSON.stringify(c.ledger)} } }`,
  );
  lines.push('routes:', '  "GET /free": 0', `  "GET /paid": "${PRICE}"`);
  // Scale: N routes with a parameter each; the last one is free, the others priced.
  for (let i = 0; i < c.routes; i++) {
    lines.push(`  "GET /api/r${i}/items/:id": ${i === c.routes - 1 ? '0' : `"${PRICE}"`}`);
  }
  return `${lines.join('\n')}\n`;
}
