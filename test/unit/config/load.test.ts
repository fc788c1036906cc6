import { describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  formatProblems,
  loadConfigFile,
  loadConfigText,
  type ConfigProblem,
  type GatewayConfig,
} from '../../../src/config/index.js';
import { BASE, BASE_SEPOLIA } from '../../../src/chains/networks.js';

const PAY_TO_LOWER = '0x209693bc6afc0c5328ba36faf03c514ef312287c';
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
const env = { PAY_TO: PAY_TO_LOWER };
const SEPOLIA_ASSET =
  '  asset: { address: "0x036cbd53842c5426634e7929541ec2318f3dcf7e", ' +
  'decimals: 6, name: USDC, version: "2" }';

function load(yaml: string, vars: NodeJS.ProcessEnv = env): GatewayConfig {
  const r = loadConfigText(yaml, vars, 'test.yaml');
  if (!r.ok) {
    throw new Error(`expected config to load:\n${formatProblems(r.problems, 'test.yaml')}`);
  }
  return r.config;
}

function problems(yaml: string, vars: NodeJS.ProcessEnv = env): readonly ConfigProblem[] {
  const r = loadConfigText(yaml, vars, 'test.yaml');
  if (r.ok) throw new Error('expected config to be refused');
  return r.problems;
}

const base = (routes: string, extra = ''): string => `
upstream: http://127.0.0.1:3000
payment:
  payTo: "\${PAY_TO}"
${extra}
routes:
${routes}
`;

describe('loadConfigText: defaults and normalisation', () => {
  const config = load(`
upstream: http://127.0.0.1:3000/
routes:
  "GET /health": 0
`);

  it('fills every default', () => {
    expect(config.server.listen).toEqual({ host: '0.0.0.0', port: 8402 });
    expect(config.server.admin).toEqual({ host: '127.0.0.1', port: 9402 });
    expect(config.server.publicUrl).toBe(null);
    expect(config.server.trustProxy).toBe(false);
    expect(config.server.limits).toEqual(DEFAULTS.server.limits);
    const { url, verifyTimeoutMs, settleTimeoutMs, supportedTimeoutMs, maxSockets, headers } =
      DEFAULTS.facilitator;
    const { supportedRefreshMs, breakerFailures, breakerHalfOpenAfterMs } = DEFAULTS.facilitator;
    expect(config.facilitator).toEqual({
      kind: 'http',
      ...{ url, verifyTimeoutMs, settleTimeoutMs, supportedTimeoutMs, maxSockets, headers },
      ...{ supportedRefreshMs, breakerFailures, breakerHalfOpenAfterMs },
    });
    // `facilitator:` (or its defaults) is a failover list of one.
    expect(config.facilitators).toEqual([config.facilitator]);
    expect(config.upstreamTimeoutMs).toBe(DEFAULTS.upstreamTimeoutMs);
    expect(config.unpriced).toBe('deny');
    expect(config.server.dropUnderscoreHeaders).toBe(true);
    expect(config.verifyCache).toEqual(DEFAULTS.verifyCache);
    expect(config.replay).toEqual(DEFAULTS.replay);
    expect(config.log).toEqual({ level: 'info' });
  });

  it('stores the upstream without a trailing slash', () => {
    expect(config.upstream).toBe('http://127.0.0.1:3000');
  });

  it('deep-freezes the result', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server.limits)).toBe(true);
    expect(config.facilitator.kind === 'http' && Object.isFrozen(config.facilitator.headers)).toBe(
      true,
    );
    expect(Object.isFrozen(config.routes)).toBe(true);
    expect(Object.isFrozen(config.routes[0]?.asset)).toBe(true);
    expect(() => {
      (config.server as { trustProxy: boolean }).trustProxy = true;
    }).toThrow(TypeError);
  });

  it('lets a free route go without payTo', () => {
    expect(config.routes[0]?.amount).toBe(0n);
  });

  it('reads bracketed IPv6 listeners, publicUrl and base paths', () => {
    const c = load(`
server:
  listen: "[::1]:0"
  publicUrl: https://API.example.com/paid/
upstream: https://backend.internal/base//
routes: {}
`);
    expect(c.server.listen).toEqual({ host: '::1', port: 0 });
    expect(c.server.publicUrl).toBe('https://api.example.com/paid');
    expect(c.upstream).toBe('https://backend.internal/base');
  });
});

describe('loadConfigText: routes', () => {
  it('turns every price form into atomic units of the asset', () => {
    const c = load(
      base(`
  "GET /a": "$0.001"
  "GET /b": "0.01"
  "GET /c": 0.10
  "GET /d": { amount: "10000" }
  "GET /e": 0
  "GET /f": "$0"
  "GET /g":
    price: { amount: "7" }
`),
    );
    expect(c.routes.map((r) => [r.id, r.amount])).toEqual([
      ['GET /a', 1000n],
      ['GET /b', 10_000n],
      ['GET /c', 100_000n],
      ['GET /d', 10_000n],
      ['GET /e', 0n],
      ['GET /f', 0n],
      ['GET /g', 7n],
    ]);
  });

  it('reads a YAML float price from its source text, never through a JS number', () => {
    // 0.29 * 1e6 = 290000.00000000006 as a float; the source text gives exactly 290000.
    const c = load(base('  "GET /a": 0.29\n  "GET /b": 1.000001'));
    expect(c.routes.map((r) => r.amount)).toEqual([290_000n, 1_000_001n]);
  });

  it('checksums payTo and fills route fields from payment and defaults', () => {
    const c = load(base('  "POST /v1/vision":\n    price: "$0.01"\n    description: AI\n'));
    const r = c.routes[0];
    expect(r).toMatchObject({
      id: 'POST /v1/vision',
      method: 'POST',
      pattern: '/v1/vision',
      amount: 10_000n,
      payTo: PAY_TO,
      network: BASE_SEPOLIA,
      asset: BASE_SEPOLIA.usdc,
      maxTimeoutSeconds: DEFAULTS.payment.maxTimeoutSeconds,
      description: 'AI',
      mimeType: '',
      settle: { mode: 'headers' },
      line: 7,
    });
  });

  it('applies per-route overrides; a route on another network gets its USDC', () => {
    const c = load(
      base(
        `
  "GET /main":
    price: "$1"
    network: eip155:8453
    payTo: "0x1111111111111111111111111111111111111111"
    maxTimeoutSeconds: 300
    settle: { mode: buffer }
    mimeType: text/plain
  "GET /custom":
    price: "1.5"
    asset:
      address: "0x2222222222222222222222222222222222222222"
      decimals: 2
      name: Tok
      version: "1"
`,
        SEPOLIA_ASSET,
      ),
    );
    const [main, custom] = c.routes;
    expect(main?.network).toBe(BASE);
    expect(main?.asset).toEqual(BASE.usdc);
    expect(main?.payTo).toBe('0x1111111111111111111111111111111111111111');
    expect(main?.maxTimeoutSeconds).toBe(300);
    expect(main?.settle).toEqual({ mode: 'buffer', maxBufferBytes: DEFAULTS.route.maxBufferBytes });
    expect(custom?.amount).toBe(150n);
    expect(custom?.asset.address).toBe('0x2222222222222222222222222222222222222222');
  });

  it('refuses two routes that tie, naming both', () => {
    const p = problems(base('  "GET /v1/items/:id": 0\n  "GET /v1/Items/:key/": 0'));
    expect(p.map((x) => [x.path, x.line])).toEqual([['routes.GET /v1/Items/:key/', 8]]);
    expect(p[0]?.message).toContain('ties with route "GET /v1/items/:id" (line 7)');
  });

  it('allows a method route and an any-method route of the same shape', () => {
    expect(load(base('  "GET /a": 0\n  "/a": 0')).routes).toHaveLength(2);
  });

  it('refuses a duplicate route key, naming the first line', () => {
    const p = problems(base('  "GET /a": 0\n  "GET /a": "$1"'));
    expect(p).toEqual([
      { path: 'routes.GET /a', line: 8, message: 'duplicate key "GET /a" (first at line 7)' },
    ]);
  });

  it('says how long maxTimeoutSeconds must be, with the numbers', () => {
    const p = problems(
      base('  "GET /a":\n    price: "$1"\n    maxTimeoutSeconds: 40', 'upstreamTimeoutMs: 20001'),
    );
    expect(p).toHaveLength(1);
    expect(p[0]?.path).toBe('routes.GET /a.maxTimeoutSeconds');
    expect(p[0]?.message).toMatch(/^40 is too short/);
    expect(p[0]?.message).toContain('validBefore = now + maxTimeoutSeconds');
    expect(p[0]?.message).toContain('upstreamTimeoutMs (20001 ms)');
    expect(p[0]?.message).toContain('settleTimeoutMs (15000 ms');
    expect(p[0]?.message).toContain('verifyTimeoutMs (5000 ms)');
    // Verify runs before the upstream, so it counts: ceil((5000 + 20001 + 15000) / 1000) + 6 = 47
    expect(p[0]?.message).toContain('at least 47');
  });

  it('accepts maxTimeoutSeconds exactly at the minimum and ignores it for free routes', () => {
    // ceil((5000 + 30000 + 15000) / 1000) + 6 = 56
    load(base('  "GET /a":\n    price: "$1"\n    maxTimeoutSeconds: 56'));
    expect(() => load(base('  "GET /a":\n    price: "$1"\n    maxTimeoutSeconds: 55'))).toThrow();
    load(base('  "GET /a":\n    price: 0\n    maxTimeoutSeconds: 1'));
  });
});

describe('loadConfigText: ${NAME} interpolation', () => {
  it('substitutes before validation, anywhere in a string', () => {
    const c = load(
      `
upstream: "http://\${HOST}:3000"
facilitator:
  headers: { Authorization: "Bearer \${TOKEN}" }
routes: {}
`,
      { HOST: 'backend', TOKEN: 's3cret' },
    );
    expect(c.upstream).toBe('http://backend:3000');
    expect(c.facilitator).toMatchObject({
      kind: 'http',
      headers: { Authorization: 'Bearer s3cret' },
    });
  });

  it('reports every unset variable with its key and line', () => {
    const p = problems(
      `
upstream: "\${UPSTREAM}"
payment:
  payTo: "\${PAY_TO}"
routes: {}
`,
      {},
    );
    expect(p).toEqual([
      { path: 'upstream', line: 2, message: 'environment variable UPSTREAM is not set' },
      { path: 'payment.payTo', line: 4, message: 'environment variable PAY_TO is not set' },
    ]);
  });

  it('gives unquoted whole numbers their number type', () => {
    const c = load('upstream: http://h\nupstreamTimeoutMs: ${T}\nroutes: {}\n', { T: '45000' });
    expect(c.upstreamTimeoutMs).toBe(45_000);
  });
});

describe('loadConfigText: strictness', () => {
  it('reports an unknown key at every level with its path and line', () => {
    const p = problems(`
upstream: http://h
verbose: true
server:
  limits:
    maxBodyByte: 10
routes:
  "GET /a":
    price: 0
    descripton: typo
`);
    expect(p).toEqual([
      { path: 'verbose', line: 3, message: 'unknown key "verbose"' },
      { path: 'server.limits.maxBodyByte', line: 6, message: 'unknown key "maxBodyByte"' },
      { path: 'routes.GET /a.descripton', line: 10, message: 'unknown key "descripton"' },
    ]);
  });

  it('reports many problems at once, each with its line, sorted by line', () => {
    const p = problems(`
server:
  listen: localhost
  shutdownTimeoutMs: -5
facilitator:
  url: not a url
payment:
  network: base-mainnet
  payTo: "0xnope"
upstreamTimeoutMs: 0
log: { level: loud }
routes:
  "HEAD /a": 0
  "GET /b": "$1,000"
  "GET /c": 0.0000001
  "GET /d/*/e": 0
`);
    expect(p.map((x) => [x.line, x.path])).toEqual([
      [undefined, 'upstream'], // missing: no line of its own
      [3, 'server.listen'],
      [4, 'server.shutdownTimeoutMs'],
      [6, 'facilitator.url'],
      [8, 'payment.network'],
      [9, 'payment.payTo'],
      [10, 'upstreamTimeoutMs'],
      [11, 'log.level'],
      [13, 'routes.HEAD /a'],
      [16, 'routes.GET /d/*/e'],
    ]);
  });

  it('still checks prices when the payment section is valid but another section is not', () => {
    const p = problems(base('  "GET /a": "$1,000"', 'log: { level: loud }'));
    expect(p.map((x) => x.path)).toEqual(['log.level', 'routes.GET /a']);
  });

  it('asks for payTo only once however many routes are priced', () => {
    const p = problems('upstream: http://h\nroutes:\n  "GET /a": "$1"\n  "GET /b": "$2"\n');
    expect(p).toEqual([
      {
        path: 'payment.payTo',
        line: 3,
        message: 'is required: priced routes need an address to be paid to (first: "GET /a")',
      },
    ]);
  });

  it('does not carry payment.asset over to a route on another network without USDC', () => {
    const p = problems(base('  "GET /a":\n    price: "$1"\n    network: polygon', SEPOLIA_ASSET));
    expect(p.map((x) => x.path)).toEqual(['routes.GET /a.asset']);
    expect(p[0]?.message).toContain('polygon (eip155:137) has no built-in USDC');
  });

  it('never throws on hostile input', () => {
    const hostile = ['', '~', '[', '{a: 1}', 'routes: [1, 2]', 'routes: { 1: 2 }', '\0', ': :'];
    for (const text of hostile) {
      const r = loadConfigText(text, {}, 'x.yaml');
      expect(r.ok).toBe(false);
    }
  });
});

describe('formatProblems', () => {
  it('prints one file:line: path: message line per problem', () => {
    expect(
      formatProblems(
        [
          { path: 'server.listen', line: 3, message: 'bad' },
          { path: '', message: 'config is empty' },
        ],
        'gw.yaml',
      ),
    ).toBe('gw.yaml:3: server.listen: bad\ngw.yaml: config is empty');
  });
});

describe('loadConfigFile', () => {
  it('reports an unreadable file as a problem', async () => {
    const r = await loadConfigFile('/nonexistent/gateway.yaml', env);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]?.path).toBe('');
    expect(r.problems[0]?.message).toContain('file not found');
  });
});

describe('loadConfigText: problems behind a broken key are still found', () => {
  it('checks route prices when payment.payTo comes from an unset variable', () => {
    const p = problems(
      'upstream: http://h\npayment: { payTo: "${NOPE}" }\nroutes:\n  "GET /a": "$0.0000001"\n',
      {},
    );
    expect(p.map((x) => [x.line, x.path])).toEqual([
      [2, 'payment.payTo'],
      [4, 'routes.GET /a'],
    ]);
  });

  it('does not judge maxTimeoutSeconds against a settle timeout that is itself invalid', () => {
    const p = problems(base('  "GET /a": "$1"', 'facilitator: { settleTimeoutMs: -1 }'));
    expect(p.map((x) => x.path)).toEqual(['facilitator.settleTimeoutMs']);
  });

  it('does not check a route against a network that is itself invalid', () => {
    const p = problems(
      'upstream: http://h\n' +
        'payment: { network: nope, payTo: "${PAY_TO}" }\n' +
        'routes:\n  "GET /a": "1.0000001"\n',
    );
    expect(p.map((x) => x.path)).toEqual(['payment.network']);
  });
});

describe('loadConfigText: facilitator.local (the built-in facilitator)', () => {
  const KEY = `0x${'5e'.repeat(32)}`;
  const local = (inner: string, outer = ''): string =>
    `facilitator:\n${outer}  local:\n    rpcUrl: http://127.0.0.1:8545\n${inner}`;

  it('resolves to kind local with the shared deadlines and its own defaults', () => {
    const c = load(
      base(
        '  "GET /a": "$1"',
        local('    privateKey: "${SETTLER_KEY}"\n', '  settleTimeoutMs: 12000\n'),
      ),
      { ...env, SETTLER_KEY: KEY },
    );
    expect(c.facilitator).toEqual({
      kind: 'local',
      rpcUrl: 'http://127.0.0.1:8545',
      privateKey: KEY,
      verifyTimeoutMs: DEFAULTS.facilitator.verifyTimeoutMs,
      settleTimeoutMs: 12000,
      supportedRefreshMs: DEFAULTS.facilitator.supportedRefreshMs,
      receiptTimeoutMs: DEFAULTS.facilitator.local.receiptTimeoutMs,
      pollingIntervalMs: DEFAULTS.facilitator.local.pollingIntervalMs,
    });
    expect(Object.isFrozen(c.facilitator)).toBe(true);
  });

  it('reports every problem of the section at once, never showing the key', () => {
    const badKey = `0x${'zz'.repeat(32)}`;
    const p = problems(
      base(
        '  "GET /a": "$1"',
        `facilitator:\n  url: http://f\n  maxSockets: 3\n  settleTimeoutMs: 3000\n  local:\n` +
          `    rpcUrl: ftp://x\n    privateKey: "${badKey}"\n    receiptTimeoutMs: 3000\n    extra: 1\n`,
      ),
    );
    expect(p.map((x) => x.path)).toEqual([
      'facilitator.url',
      'facilitator.maxSockets',
      'facilitator.local.rpcUrl',
      'facilitator.local.privateKey',
      'facilitator.local.receiptTimeoutMs',
      'facilitator.local.extra',
    ]);
    expect(JSON.stringify(p)).not.toContain('zzzz');
  });

  it('refuses a receipt wait that does not fit in the settle deadline', () => {
    const p = problems(
      base('  "GET /a": "$1"', local(`    privateKey: "${KEY}"\n    receiptTimeoutMs: 15000\n`)),
    );
    expect(p).toEqual([
      expect.objectContaining({
        path: 'facilitator.local.receiptTimeoutMs',
        message: expect.stringContaining(
          'must be below facilitator.settleTimeoutMs (15000 ms)',
        ) as unknown,
      }),
    ]);
  });

  it('still judges maxTimeoutSeconds against the settle deadline of a local facilitator', () => {
    const p = problems(
      base(
        '  "GET /a": { price: "$1", maxTimeoutSeconds: 30 }',
        local(`    privateKey: "${KEY}"\n`, '  settleTimeoutMs: 40000\n'),
      ),
    );
    expect(p.map((x) => x.path)).toEqual(['routes.GET /a.maxTimeoutSeconds']);
  });

  it('names the unset variable of the key', () => {
    const p = problems(base('  "GET /a": "$1"', local('    privateKey: "${SETTLER_KEY}"\n')));
    expect(p).toEqual([
      expect.objectContaining({
        path: 'facilitator.local.privateKey',
        message: 'environment variable SETTLER_KEY is not set',
      }),
    ]);
  });
});

describe('loadConfigText: rpcUrls', () => {
  const route = '  "GET /a": "$0.01"';

  it('is empty by default, and keys every network by its CAIP-2 id', () => {
    expect(load(base(route)).rpcUrls).toEqual({});
    const config = load(
      base(route, 'rpcUrls:\n  base: "${RPC}/"\n  "eip155:84532": http://127.0.0.1:8545'),
      { ...env, RPC: 'https://rpc.example/key' },
    );
    expect(config.rpcUrls).toEqual({
      'eip155:8453': 'https://rpc.example/key',
      'eip155:84532': 'http://127.0.0.1:8545',
    });
  });

  it('refuses an unknown network, one network named twice, and a URL that is not http(s)', () => {
    const found = problems(
      base(
        route,
        'rpcUrls:\n  mars: http://127.0.0.1:1\n  base: http://127.0.0.1:2\n  "eip155:8453": http://127.0.0.1:3\n  base-sepolia: ws://127.0.0.1:4',
      ),
    );
    const messages = found.map((p) => `${p.path}: ${p.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^rpcUrls\.mars: unknown network "mars"/),
        expect.stringMatching(/^rpcUrls\.eip155:8453: names the same network as another key/),
        expect.stringMatching(/^rpcUrls\.base-sepolia: must be an http or https URL/),
      ]),
    );
  });
});
