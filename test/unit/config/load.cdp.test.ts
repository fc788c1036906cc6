import { describe, expect, it } from 'vitest';
import {
  CDP_FACILITATOR_URL,
  DEFAULTS,
  formatProblems,
  loadConfigText,
  planReload,
  type ConfigProblem,
  type GatewayConfig,
} from '../../../src/config/index.js';
import { ecTestKey, ed25519TestKey } from '../../helpers/cdp-jwt-check.js';

const PAY_TO = '0x209693bc6afc0c5328ba36faf03c514ef312287c';

const yaml = (facilitator: string): string => `
upstream: http://127.0.0.1:3000
payment:
  payTo: "${PAY_TO}"
facilitator:
${facilitator}
routes:
  "GET /a": "$0.001"
`;

const cdp = `  cdp:
    apiKeyId: "\${CDP_API_KEY_ID}"
    apiKeySecret: "\${CDP_API_KEY_SECRET}"`;

function load(text: string, env: NodeJS.ProcessEnv): GatewayConfig {
  const r = loadConfigText(text, env, 'test.yaml');
  if (!r.ok) throw new Error(formatProblems(r.problems, 'test.yaml'));
  return r.config;
}

function problems(text: string, env: NodeJS.ProcessEnv): readonly ConfigProblem[] {
  const r = loadConfigText(text, env, 'test.yaml');
  if (r.ok) throw new Error('expected config to be refused');
  return r.problems;
}

describe('facilitator.cdp', () => {
  it('takes both key formats through ${ENV}, and defaults url to CDP x402', () => {
    for (const key of [ecTestKey(), ed25519TestKey()]) {
      const env = { CDP_API_KEY_ID: key.apiKeyId, CDP_API_KEY_SECRET: key.apiKeySecret };
      const f = load(yaml(cdp), env).facilitator;
      expect(f).toMatchObject({
        kind: 'http',
        url: CDP_FACILITATOR_URL,
        cdp: { apiKeyId: key.apiKeyId, apiKeySecret: key.apiKeySecret },
      });
    }
    expect(CDP_FACILITATOR_URL).toBe('https://api.cdp.coinbase.com/platform/v2/x402');
  });

  it('keeps an explicit url, and is absent (the plain default url) without cdp', () => {
    const key = ed25519TestKey();
    const env = { CDP_API_KEY_ID: key.apiKeyId, CDP_API_KEY_SECRET: key.apiKeySecret };
    const f = load(yaml(`  url: http://127.0.0.1:4021/x402\n${cdp}`), env).facilitator;
    expect(f.kind === 'http' && f.url).toBe('http://127.0.0.1:4021/x402');
    const plain = load(yaml('  verifyTimeoutMs: 500'), {}).facilitator;
    expect(plain.kind === 'http' && plain.url).toBe(DEFAULTS.facilitator.url);
    expect('cdp' in plain).toBe(false);
  });

  it('refuses a wrong secret, an empty id and unknown keys, never showing the secret', () => {
    const secret = Buffer.alloc(40, 3).toString('base64');
    const found = problems(yaml(`${cdp}\n    region: eu`), {
      CDP_API_KEY_ID: '',
      CDP_API_KEY_SECRET: secret,
    });
    const text = formatProblems(found, 'test.yaml');
    expect(text).toMatch(/facilitator\.cdp\.apiKeySecret: .*64 base64 bytes/);
    expect(text).toMatch(/facilitator\.cdp\.apiKeyId: must not be empty/);
    expect(text).toMatch(/facilitator\.cdp\.region: unknown key/);
    expect(text).not.toContain(secret);
  });

  it('is for a remote facilitator only, not with local', () => {
    const key = ecTestKey();
    const found = problems(
      yaml(
        `  local:\n    rpcUrl: http://127.0.0.1:8545\n    privateKey: "0x${'1'.repeat(64)}"\n${cdp}`,
      ),
      { CDP_API_KEY_ID: key.apiKeyId, CDP_API_KEY_SECRET: key.apiKeySecret },
    );
    expect(found.map((p) => p.path)).toContain('facilitator.cdp');
  });

  it('reloads: a new key is a facilitator.cdp change, like headers', () => {
    const [a, b] = [ecTestKey(), ed25519TestKey()];
    const env = (k: typeof a) => ({
      CDP_API_KEY_ID: k.apiKeyId,
      CDP_API_KEY_SECRET: k.apiKeySecret,
    });
    const plan = planReload(load(yaml(cdp), env(a)), load(yaml(cdp), env(b)));
    expect(plan.changed).toEqual(['facilitator.cdp']);
    expect(plan.refused).toEqual([]);
    const added = planReload(
      load(yaml('  verifyTimeoutMs: 500'), {}),
      load(yaml(`  verifyTimeoutMs: 500\n  url: ${DEFAULTS.facilitator.url}\n${cdp}`), env(a)),
    );
    expect(added.changed).toContain('facilitator.cdp'); // and routes: their line numbers moved
    expect(added.refused).toEqual([]);
  });
});
