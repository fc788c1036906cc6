/**
 * `upstreams:`, the default `upstream:` (a URL or a name) and a route's `upstream` and `rewrite`:
 * what loads, and every refusal naming its key and line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfigText, type ConfigProblem } from '../../../src/config/index.js';
import { tempDir } from '../../helpers/temp-dir.js';

const PAY = 'payment: { payTo: "0x209693bc6afc0c5328ba36faf03c514ef312287c" }\n';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function load(yaml: string, env: NodeJS.ProcessEnv = {}, baseDir = '/srv/gw') {
  return loadConfigText(`${PAY}${yaml}`, env, 'test.yaml', { baseDir });
}
function configOf(yaml: string, env: NodeJS.ProcessEnv = {}, baseDir?: string) {
  const r = load(yaml, env, baseDir);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}
function problemsOf(yaml: string): readonly ConfigProblem[] {
  const r = load(yaml);
  if (r.ok) throw new Error('expected the config to be refused');
  return r.problems;
}

describe('upstreams', () => {
  it('is empty by default; a URL in upstream: stays the default', () => {
    const c = configOf('upstream: http://127.0.0.1:3000\nroutes:\n  "GET /a": 0\n');
    expect(c.upstreams).toEqual({});
    expect(c.upstream).toBe('http://127.0.0.1:3000');
  });

  it('resolves an entry: defaults, lower-case header names, ${ENV} values, inline CA', () => {
    const c = configOf(
      `upstream: legacy
upstreams:
  legacy:
    url: https://legacy.internal:8443/api/
    timeoutMs: 9000
    tls: { ca: "${PEM.replaceAll('\n', '\\n')}", servername: legacy.internal }
    headers: { X-Api-Key: "\${LEGACY_KEY}" }
    removeHeaders: [Cookie]
routes:
  "GET /a": 0
`,
      { LEGACY_KEY: 'k-123' },
    );
    expect(c.upstream).toBe('legacy');
    expect(c.upstreams.legacy).toEqual({
      url: 'https://legacy.internal:8443/api',
      timeoutMs: 9000,
      connections: DEFAULTS.upstreams.connections,
      tls: { ca: PEM, rejectUnauthorized: true, servername: 'legacy.internal' },
      headers: { 'x-api-key': 'k-123' },
      removeHeaders: ['cookie'],
      health: { ...DEFAULTS.upstreams.health },
    });
  });

  it('reads a CA file relative to the config folder, and names a missing one', () => {
    const dir = tempDir();
    try {
      writeFileSync(join(dir.path, 'ca.pem'), PEM);
      const yaml = (file: string) =>
        `upstream: http://127.0.0.1:3000\nupstreams:\n  s:\n    url: https://10.0.0.1\n    tls: { ca: ${file} }\nroutes:\n  "GET /a": 0\n`;
      expect(configOf(yaml('ca.pem'), {}, dir.path).upstreams.s!.tls!.ca).toBe(PEM);
      const r = load(yaml('nope.pem'), {}, dir.path);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.problems[0]).toMatchObject({ path: 'upstreams.s.tls.ca', line: 6 });
      expect(r.problems[0]!.message).toContain('ENOENT');
    } finally {
      dir.remove();
    }
  });

  it('refuses a route naming an unknown upstream, with the key and its line', () => {
    const problems = problemsOf(`upstream: http://127.0.0.1:3000
upstreams:
  legacy: { url: http://10.0.0.1 }
routes:
  "GET /a":
    price: 0
    upstream: legasy
`);
    expect(problems).toEqual([
      {
        path: 'routes.GET /a.upstream',
        line: 8, // the payment line comes first
        message: 'names no upstream "legasy": upstreams has legacy',
      },
    ]);
  });

  it('refuses an upstream: that is neither a URL nor a known name', () => {
    const problems = problemsOf('upstream: legacy\nroutes:\n  "GET /a": 0\n');
    expect(problems[0]).toMatchObject({ path: 'upstream', line: 2 });
    expect(problems[0]!.message).toContain('neither an http(s) URL nor the name of an upstream');
  });

  it('credentials in an upstream URL point to upstreams.<name>.headers, never echoing the password', () => {
    for (const yaml of [
      'upstream: http://user:hunter2@10.0.0.1\nroutes:\n  "GET /a": 0\n',
      'upstream: http://127.0.0.1:3000\nupstreams:\n  l: { url: "http://user:hunter2@10.0.0.1" }\nroutes:\n  "GET /a": 0\n',
    ]) {
      const [problem] = problemsOf(yaml);
      expect(problem!.message).toContain('upstreams.<name>.headers');
      expect(problem!.message).not.toContain('hunter2');
    }
  });

  it('refuses headers the gateway owns, bad names, overlaps and tls on http', () => {
    const problems = problemsOf(`upstream: http://127.0.0.1:3000
upstreams:
  l:
    url: http://10.0.0.1
    tls: { rejectUnauthorized: false }
    headers: { X-Payment-Payer: "0xabc", x-forwarded-for: "1.2.3.4", "bad name": x, x-key: a }
    removeHeaders: [X-Key]
routes:
  "GET /a": 0
`);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath['upstreams.l.tls']).toContain('https upstreams only');
    expect(byPath['upstreams.l.headers.X-Payment-Payer']).toContain('payment header');
    expect(byPath['upstreams.l.headers.x-forwarded-for']).toContain('set by the gateway');
    expect(byPath['upstreams.l.headers.bad name']).toContain('not a valid header name');
    expect(byPath['upstreams.l.removeHeaders.0']).toContain('also in headers');
  });

  it('refuses a named default beside a URL in upstream:', () => {
    const problems = problemsOf(
      'upstream: http://127.0.0.1:3000\nupstreams:\n  default: { url: http://10.0.0.1 }\nroutes:\n  "GET /a": 0\n',
    );
    expect(problems[0]).toMatchObject({ path: 'upstreams.default' });
  });
});

describe('a route rewrite', () => {
  it('loads prefix and replace (replace "" by default: strip)', () => {
    const c = configOf(`upstream: http://127.0.0.1:3000
routes:
  "GET /api/items/:id": { price: 0, rewrite: { prefix: /api, replace: /v2 } }
  "/legacy/*": { price: 0, rewrite: { prefix: /legacy } }
`);
    expect(c.routes[0]!.rewrite).toEqual({ prefix: '/api', replace: '/v2' });
    expect(c.routes[1]!.rewrite).toEqual({ prefix: '/legacy', replace: '' });
  });

  it('refuses a prefix that does not lead the route, or is not whole segments', () => {
    const problems = problemsOf(`upstream: http://127.0.0.1:3000
routes:
  "GET /api/items": { price: 0, rewrite: { prefix: /ap } }
  "GET /b": { price: 0, rewrite: { prefix: /b/ } }
`);
    expect(problems[0]).toMatchObject({ path: 'routes.GET /api/items.rewrite.prefix', line: 4 });
    expect(problems[0]!.message).toContain('does not lead');
    expect(problems[1]).toMatchObject({ path: 'routes.GET /b.rewrite.prefix' });
  });

  it("checks maxTimeoutSeconds against the route's own upstream deadline", () => {
    const problems = problemsOf(`upstream: http://127.0.0.1:3000
upstreams:
  slow: { url: http://10.0.0.1, timeoutMs: 200000 }
routes:
  "GET /a": { price: "$0.01", upstream: slow }
`);
    expect(problems[0]!.message).toContain('200000 ms');
  });
});
