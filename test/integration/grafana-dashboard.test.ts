/**
 * The dashboard as code (deploy/grafana): the committed JSON is what the code builds, and every
 * `x402_gateway_*` metric its queries and variables name is one a running gateway exports.
 */
import { createClusterMetrics } from '../../src/metrics/index.js';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, dashboardJson } from '../../deploy/grafana/dashboard.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';

const COMMITTED = new URL('../../deploy/grafana/x402-gateway.json', import.meta.url);

/** Every metric name a scrape declares (`# TYPE`), histograms with their sample suffixes. */
function exportedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram' || type === 'summary') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    }
  }
  return names;
}

describe('Grafana dashboard (deploy/grafana)', () => {
  it('the committed JSON is what deploy/grafana/dashboard.ts generates (npm run dashboard)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(dashboardJson());
  });

  describe('against a running gateway', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness();
    });
    afterAll(async () => {
      await h?.close();
    });

    it('names only metrics the gateway exports', async () => {
      const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
      // With server.workers > 1 the primary adds its own series (test/e2e/gateway/workers.test.ts).
      const primary = await createClusterMetrics(2).registry.metrics();
      const exported = new Set([...exportedNames(text), ...exportedNames(primary)]);
      const referenced = new Set(JSON.stringify(buildDashboard()).match(/x402_gateway_\w+/g));
      expect(referenced.size).toBeGreaterThan(15);
      const missing = [...referenced].filter((name) => !exported.has(name));
      expect(missing).toEqual([]);
    });

    it('exports the scale of each priced asset: USDC on Base Sepolia is 10^6 atomic units', async () => {
      const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
      expect(text).toContain(
        'x402_gateway_asset_scale{network="eip155:84532",asset="0x036CbD53842c5426634e7929541eC2318f3dCF7e",symbol="USDC",decimals="6"} 1000000',
      );
    });
  });
});
