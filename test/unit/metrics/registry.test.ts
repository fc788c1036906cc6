import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMetrics, KNOWN_LABELS } from '../../../src/metrics/registry.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

async function exposition(): Promise<string> {
  return createMetrics({ defaultMetrics: false }).registry.metrics();
}

describe('createMetrics: known label sets start at 0 (issue 13)', () => {
  it('exports every settlement result at 0 before the first settlement', async () => {
    const text = await exposition();
    for (const result of KNOWN_LABELS.settlements) {
      expect(text).toContain(`x402_gateway_settlements_total{result="${result}"} 0`);
    }
  });

  it('exports verify-cache results, credit outcomes and facilitator op × result at 0', async () => {
    const text = await exposition();
    for (const result of ['hit', 'negative_hit', 'miss']) {
      expect(text).toContain(`x402_gateway_verify_cache_total{result="${result}"} 0`);
    }
    for (const outcome of ['granted', 'consumed', 'refused']) {
      expect(text).toContain(`x402_gateway_credits_total{outcome="${outcome}"} 0`);
    }
    for (const op of ['verify', 'settle', 'supported']) {
      for (const result of ['ok', 'timeout', 'network', 'http_error', 'bad_response']) {
        expect(text).toContain(
          `x402_gateway_facilitator_requests_total{op="${op}",result="${result}"} 0`,
        );
      }
    }
  });

  it('counts from 0: the first pending settlement reads 1, the others stay 0', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.settlements.labels('pending').inc();
    const text = await metrics.registry.metrics();
    expect(text).toContain('x402_gateway_settlements_total{result="pending"} 1');
    expect(text).toContain('x402_gateway_settlements_total{result="declined"} 0');
  });
});

describe('createMetrics: build_info', () => {
  it('is 1 and names the package version and the Node.js version', async () => {
    const text = await exposition();
    expect(text).toContain(
      `x402_gateway_build_info{version="${pkg.version}",node_version="${process.version}"} 1`,
    );
  });
});
