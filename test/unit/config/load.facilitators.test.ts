import { describe, expect, it } from 'vitest';
import {
  CDP_FACILITATOR_URL,
  DEFAULTS,
  facilitatorDeadlines,
  formatProblems,
  loadConfigText,
  planReload,
  type ConfigProblem,
  type GatewayConfig,
} from '../../../src/config/index.js';
import { ecTestKey } from '../../helpers/cdp-jwt-check.js';

const PAY_TO = '0x209693bc6afc0c5328ba36faf03c514ef312287c';
const KEY = `0x${'1'.repeat(64)}`;

// The section comes last: routes keep their lines (a route's line is part of it) across files.
const yaml = (section: string): string => `
upstream: http://127.0.0.1:3000
payment:
  payTo: "${PAY_TO}"
routes:
  "GET /a": "$0.001"
${section}
`;

const TWO = `facilitators:
  - name: cdp
    cdp:
      apiKeyId: "\${CDP_API_KEY_ID}"
      apiKeySecret: "\${CDP_API_KEY_SECRET}"
    settleTimeoutMs: 20000
  - url: https://x402.org/facilitator
    headers: { x-api-key: "\${OTHER_KEY}" }
    verifyTimeoutMs: 7000
    breakerFailures: 3`;

const ENV = {
  CDP_API_KEY_ID: 'key-id',
  CDP_API_KEY_SECRET: ecTestKey().apiKeySecret,
  OTHER_KEY: 'other-secret',
};

function load(text: string, env: NodeJS.ProcessEnv = ENV): GatewayConfig {
  const r = loadConfigText(text, env, 'test.yaml');
  if (!r.ok) throw new Error(formatProblems(r.problems, 'test.yaml'));
  return r.config;
}

function problems(text: string, env: NodeJS.ProcessEnv = ENV): readonly ConfigProblem[] {
  const r = loadConfigText(text, env, 'test.yaml');
  if (r.ok) throw new Error('expected config to be refused');
  return r.problems;
}

describe('facilitators: a failover list', () => {
  it('keeps the order, fills each entry, and the first is `facilitator`', () => {
    const c = load(yaml(TWO));
    expect(c.facilitators).toHaveLength(2);
    expect(c.facilitators[0]).toMatchObject({
      kind: 'http',
      name: 'cdp',
      url: CDP_FACILITATOR_URL,
      settleTimeoutMs: 20000,
      breakerFailures: DEFAULTS.facilitator.breakerFailures,
    });
    expect(c.facilitators[1]).toMatchObject({
      kind: 'http',
      url: 'https://x402.org/facilitator',
      headers: { 'x-api-key': 'other-secret' },
      verifyTimeoutMs: 7000,
      breakerFailures: 3,
      breakerHalfOpenAfterMs: DEFAULTS.facilitator.breakerHalfOpenAfterMs,
    });
    expect(c.facilitators[1]).not.toHaveProperty('name');
    expect(c.facilitator).toBe(c.facilitators[0]);
  });

  it('deadlines that must hold whichever facilitator answers count the longest of the list', () => {
    expect(facilitatorDeadlines(load(yaml(TWO)))).toEqual({
      verifyTimeoutMs: 7000,
      settleTimeoutMs: 20000,
    });
  });

  it("checks a route's maxTimeoutSeconds against the list's longest deadlines", () => {
    const p = problems(yaml(TWO).replace('payTo:', 'maxTimeoutSeconds: 40\n  payTo:'));
    expect(p).toHaveLength(1);
    // 7 s verify (the second entry) + 30 s upstream + 20 s settle (the first) does not fit in 40 s.
    expect(p.map((x) => x.message).join('\n')).toMatch(/7000 ms.*20000 ms/s);
  });

  it('refuses `facilitator` and `facilitators` together', () => {
    const p = problems(yaml(`facilitator:\n  url: https://a.example\n${TWO}`));
    expect(p).toEqual([
      expect.objectContaining({
        path: 'facilitators',
        message: expect.stringContaining('not both') as string,
      }),
    ]);
  });

  it('refuses local in a list, naming the key', () => {
    const p = problems(
      yaml(
        `facilitators:\n  - url: https://a.example\n  - local:\n      rpcUrl: http://127.0.0.1:8545\n      privateKey: "${KEY}"`,
      ),
    );
    expect(p).toEqual([
      expect.objectContaining({
        path: 'facilitators.1.local',
        message: expect.stringContaining('runs alone') as string,
      }),
    ]);
  });

  it('takes local as a list of one (the same as facilitator: { local })', () => {
    const c = load(
      yaml(
        `facilitators:\n  - local:\n      rpcUrl: http://127.0.0.1:8545\n      privateKey: "${KEY}"`,
      ),
    );
    expect(c.facilitator.kind).toBe('local');
    expect(c.facilitators).toEqual([c.facilitator]);
  });

  it('refuses an empty list, a duplicate name, a name that is no label, and a bad entry', () => {
    expect(problems(yaml('facilitators: []')).map((x) => x.path)).toEqual(['facilitators']);
    const p = problems(
      yaml(
        `facilitators:\n  - { url: https://a.example, name: a }\n  - { url: https://b.example, name: a }\n  - { url: https://c.example, name: "has space" }\n  - { url: ftp://d.example }`,
      ),
    );
    expect(p.map((x) => x.path)).toEqual([
      'facilitators.2.name',
      'facilitators.3.url',
      // Names are checked once every entry parses.
    ]);
    const dup = problems(
      yaml(
        `facilitators:\n  - { url: https://a.example, name: a }\n  - { url: https://b.example, name: a }`,
      ),
    );
    expect(dup).toEqual([
      expect.objectContaining({
        path: 'facilitators.1.name',
        message: expect.stringContaining('unique') as string,
      }),
    ]);
  });

  it('never shows a secret in a problem', () => {
    const p = problems(yaml(TWO.replace('verifyTimeoutMs: 7000', 'verifyTimeoutMs: -1')), ENV);
    const text = formatProblems(p, 'test.yaml');
    expect(text).toContain('facilitators');
    expect(text).not.toContain('other-secret');
    expect(text).not.toContain('PRIVATE KEY');
  });
});

describe('facilitators: reload', () => {
  it('a reorder is one reloadable key, `facilitators`', () => {
    const current = load(yaml(TWO));
    const swapped = yaml(
      `facilitators:\n  - url: https://x402.org/facilitator\n  - name: cdp\n    cdp:\n      apiKeyId: "\${CDP_API_KEY_ID}"\n      apiKeySecret: "\${CDP_API_KEY_SECRET}"`,
    );
    const plan = planReload(current, load(swapped));
    expect(plan).toMatchObject({ changed: ['facilitators'], refused: [] });
    expect(plan.config.facilitators[0]!.kind === 'http' && plan.config.facilitators[0]!.url).toBe(
      'https://x402.org/facilitator',
    );
  });

  it('from one facilitator to a list, and back', () => {
    const one = load(yaml('facilitator:\n  url: https://a.example'));
    const list = load(yaml(TWO));
    expect(planReload(one, list)).toMatchObject({ changed: ['facilitators'], refused: [] });
    expect(planReload(list, one)).toMatchObject({ changed: ['facilitators'], refused: [] });
  });

  it('a list of one is told key by key, as `facilitator:` is', () => {
    const a = load(yaml('facilitators:\n  - url: https://a.example'));
    const b = load(yaml('facilitators:\n  - { url: https://b.example, maxSockets: 3 }'));
    const plan = planReload(a, b);
    expect(plan.changed).toEqual(['facilitator.url']);
    expect(plan.refused).toEqual(['facilitator.maxSockets']);
    // The refused key keeps its running value, in the list too.
    expect(plan.config.facilitators).toEqual([plan.config.facilitator]);
    expect(plan.config.facilitator).toMatchObject({ url: 'https://b.example', maxSockets: 256 });
  });

  it('switching between local and a list is refused as facilitator.local', () => {
    const local = load(
      yaml(`facilitator:\n  local:\n    rpcUrl: http://127.0.0.1:8545\n    privateKey: "${KEY}"`),
    );
    const list = load(yaml(TWO));
    for (const [from, to] of [
      [local, list],
      [list, local],
    ] as const) {
      const plan = planReload(from, to);
      expect(plan.refused).toEqual(['facilitator.local']);
      expect(plan.changed).toEqual([]);
      expect(plan.config.facilitators).toBe(from.facilitators);
      expect(plan.config.facilitator).toBe(from.facilitator);
    }
  });
});
