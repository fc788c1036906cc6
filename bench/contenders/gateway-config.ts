/** The gateway's YAML config for a benchmark run (the shape of the gateway's config schema). */
import { NETWORK_V1, PAY_TO, PRICE } from '../constants.js';

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
}

export function gatewayYaml(c: GatewayConfigInput): string {
  const lines = [
    `server: { listen: "127.0.0.1:${c.port}", admin: "127.0.0.1:${c.adminPort}" }`,
    `facilitator: { url: "http://127.0.0.1:${c.facilitatorPort}" }`,
    `payment: { network: ${NETWORK_V1}, payTo: "${PAY_TO}", maxTimeoutSeconds: 300 }`,
    `upstream: "http://127.0.0.1:${c.upstreamPort}"`,
  ];
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
