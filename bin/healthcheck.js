#!/usr/bin/env node
// Docker HEALTHCHECK: liveness, never readiness. Probes GET /healthz on the admin listener the
// config names (server.admin; a wildcard address is probed on loopback), exit 0 if it answers 200.
// Readiness (/readyz) is for load balancers: a gateway whose facilitator is down is unready for
// paid routes but alive, and must not be restarted for it.
//   node bin/healthcheck.js [CONFIG]   (default /app/gateway.yaml)
import { fileURLToPath } from 'node:url';

const config = process.argv[2] ?? '/app/gateway.yaml';
const { loadConfigFile } = await import(
  fileURLToPath(new URL('../dist/config/index.js', import.meta.url))
);
const loaded = await loadConfigFile(config, process.env);
if (!loaded.ok) {
  process.stderr.write(`healthcheck: cannot read the admin address from ${config}\n`);
  process.exit(1);
}
const { host, port } = loaded.config.server.admin;
const probe = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
const url = `http://${probe.includes(':') ? `[${probe}]` : probe}:${port}/healthz`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  process.exit(res.status === 200 ? 0 : 1);
} catch (err) {
  process.stderr.write(`healthcheck: ${url}: ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
}
