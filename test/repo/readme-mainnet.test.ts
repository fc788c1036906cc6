/**
 * The README's mainnet set-up (Coinbase's facilitator with failover, an upstream key, the rate
 * limits) is a config the gateway accepts, with secrets from the environment: it cannot rot.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/index.js';

const README = new URL('../../README.md', import.meta.url);

function mainnetBlock(): string {
  const text = readFileSync(README, 'utf8');
  const at = text.indexOf('On Base mainnet (real USDC), a whole file');
  expect(at).toBeGreaterThan(0);
  const open = text.indexOf('```yaml\n', at);
  return text.slice(open + '```yaml\n'.length, text.indexOf('```', open + 8));
}

describe("README's mainnet set-up", () => {
  it('validates, on Base mainnet, with CDP first, the upstream key added and the rate limits on', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const env = {
      CDP_API_KEY_ID: 'organizations/o/apiKeys/k',
      CDP_API_KEY_SECRET: privateKey.export({ type: 'sec1', format: 'pem' }).toString(),
      BACKUP_FACILITATOR_URL: 'https://facilitator.example.com',
      PAY_TO: '0x1111111111111111111111111111111111111111',
      LEGACY_API_KEY: 'legacy-secret',
      BASE_RPC_URL: 'https://mainnet.base.org',
    };
    const loaded = loadConfigText(mainnetBlock(), env, 'README.md', { baseDir: '/tmp' });
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
    if (!loaded.ok) return;
    const c = loaded.config;
    expect(c.facilitators.map((f) => (f.kind === 'http' ? f.url : f.kind))).toEqual([
      'https://api.cdp.coinbase.com/platform/v2/x402',
      'https://facilitator.example.com',
    ]);
    expect(c.facilitators[0]).toMatchObject({ cdp: { apiKeyId: env.CDP_API_KEY_ID } });
    // Priced routes are offered on Base mainnet, in its USDC.
    const priced = c.routes.filter((r) => r.amount !== 0n);
    expect(priced.length).toBeGreaterThan(0);
    for (const r of priced) expect(r.network.caip2).toBe('eip155:8453');
    expect(JSON.stringify(c.upstreams)).toContain('legacy-secret');
    expect(c.rateLimits.enabled).toBe(true);
  });
});
