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

describe('createMetrics: merged across cluster workers (server.workers)', () => {
  /**
   * How each gauge merges over workers, decided one by one: prom-client sums a gauge that does not
   * say, and a sum is wrong for any gauge read from shared state (the book) or describing the
   * whole (a version, a scale). A new gauge must be added here with its decision.
   */
  const GAUGES: Readonly<Record<string, string>> = {
    x402_gateway_in_flight: 'sum',
    x402_gateway_facilitator_up: 'min',
    x402_gateway_build_info: 'first',
    x402_gateway_ledger_unresolved: 'max',
    x402_gateway_ledger_oldest_unresolved_seconds: 'max',
    x402_gateway_asset_scale: 'first',
    x402_gateway_settler_balance_wei: 'max',
    x402_gateway_config_last_reload_success_timestamp_seconds: 'min',
    x402_gateway_config_last_reload_successful: 'min',
    x402_gateway_config_restart_pending_keys: 'max',
    x402_gateway_facilitator_breaker_state: 'max',
    x402_gateway_rate_limit_tracked: 'sum',
    x402_gateway_upstream_up: 'min',
    x402_gateway_instances_live: 'max',
  };

  it('every gauge of the gateway declares how it merges, as decided above', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.settlerBalance().set(1n); // created on first use
    const gauges = (await metrics.registry.getMetricsAsJSON()).filter(
      (m) => String(m.type) === 'gauge',
    );
    const declared = Object.fromEntries(gauges.map((g) => [g.name, g.aggregator]));
    expect(declared).toEqual(GAUGES);
  });

  it('merges two workers: requests in flight add up, a book-read gauge does not', async () => {
    const { AggregatorRegistry } = await import('prom-client');
    const one = createMetrics({ defaultMetrics: false, inFlight: { count: 3 } });
    const two = createMetrics({ defaultMetrics: false, inFlight: { count: 4 } });
    for (const m of [one, two]) m.ledger.unresolved.reset({ unknown: 5 });
    const merged = await AggregatorRegistry.aggregate([
      await one.registry.getMetricsAsJSON(),
      await two.registry.getMetricsAsJSON(),
    ]).metrics();
    expect(merged).toContain('x402_gateway_in_flight 7');
    expect(merged).toContain('x402_gateway_ledger_unresolved{state="unknown"} 5');
  });
});
