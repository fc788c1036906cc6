/**
 * The per-request cost issue 16 §2/§3 adds on the request path: header edits of a named upstream,
 * a route's path rewrite, and the health bookkeeping (the `down` read and `succeeded()`).
 * `node --import tsx bench/micro/upstreams.ts`
 */
import { headerEdits, upstreamHeaders } from '../../src/proxy/request-headers.js';
import { rewritePath } from '../../src/proxy/path-rewrite.js';
import { UpstreamHealth } from '../../src/proxy/upstream-health.js';

const clientHeaders = {
  host: 'api.example.com',
  'user-agent': 'curl/8.5.0',
  accept: 'application/json',
  'accept-encoding': 'gzip',
  cookie: 'session=abc',
  'x-api-key': 'client-forged',
};
const facts = {
  clientIp: '10.0.0.1',
  host: 'api.example.com',
  proto: 'https' as const,
  requestId: 'r1',
};
const policy = { trustProxy: false, dropUnderscoreHeaders: true };
const edits = headerEdits({ 'x-api-key': 'k', authorization: 'Bearer t' }, ['cookie']);
const rewrite = { prefix: '/legacy', replace: '/api/v2' };
const health = new UpstreamHealth({
  name: 'b',
  url: 'http://127.0.0.1:1',
  failures: 3,
  count5xx: false,
  minClients: 3,
  retryAfterSeconds: 10,
  intervalMs: 60_000,
  timeoutMs: 100,
  onChange: () => undefined,
});

function time(label: string, n: number, fn: () => unknown): number {
  for (let i = 0; i < n / 5; i++) fn();
  const t = process.hrtime.bigint();
  let sink: unknown;
  for (let i = 0; i < n; i++) sink = fn();
  const ns = Number(process.hrtime.bigint() - t) / n;
  if (sink === 42) console.log('');
  console.log(`${label.padEnd(44)} ${(ns / 1000).toFixed(3)} µs`);
  return ns;
}

const N = 1_000_000;
for (let round = 0; round < 2; round++) {
  const plain = time('upstreamHeaders, no edits', N, () =>
    upstreamHeaders(clientHeaders, facts, undefined, policy),
  );
  const edited = time('upstreamHeaders, 2 added + 1 removed', N, () =>
    upstreamHeaders(clientHeaders, facts, undefined, policy, edits),
  );
  console.log(
    `${'  → added by header edits'.padEnd(44)} ${((edited - plain) / 1000).toFixed(3)} µs`,
  );
  time('rewritePath /legacy/items/7 → /api/v2/…', N, () => rewritePath('/legacy/items/7', rewrite));
  time('health: down read + succeeded()', N * 10, () => {
    if (health.down) return 1;
    health.succeeded();
    return 0;
  });
}
