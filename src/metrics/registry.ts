/**
 * Every metric the gateway exports, in one place, on its own registry (never prom-client's global).
 * Labels use route ids from config, never raw paths, so cardinality is bounded by the config.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const PREFIX = 'x402_gateway_';

/** Latency buckets in seconds: 1 ms … 30 s (facilitators and upstreams range from loopback to chain). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'outcome'>;
  readonly payments: Counter<'outcome' | 'reason'>;
  readonly settlements: Counter<'result'>;
  /** Atomic units of the asset; counted only on confirmed settlement. */
  readonly revenue: Counter<'route' | 'network' | 'asset' | 'pay_to'>;
  readonly facilitatorRequests: Counter<'op' | 'result'>;
  readonly facilitatorDuration: Histogram<'op'>;
  readonly upstreamDuration: Histogram<'route'>;
  readonly verifyCache: Counter<'result'>;
  readonly inFlight: Gauge;
  readonly facilitatorUp: Gauge;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: `${PREFIX}requests_total`,
      help: 'Requests by route id and outcome.',
      labelNames: ['route', 'outcome'],
      registers,
    }),
    payments: new Counter({
      name: `${PREFIX}payments_total`,
      help: 'Payment attempts by outcome and reason (reasons mapped to a known set plus "other").',
      labelNames: ['outcome', 'reason'],
      registers,
    }),
    settlements: new Counter({
      name: `${PREFIX}settlements_total`,
      help: 'Settlement attempts by result: success, declined, pending.',
      labelNames: ['result'],
      registers,
    }),
    revenue: new Counter({
      name: `${PREFIX}revenue_atomic_total`,
      help: 'Revenue in atomic units of the asset (USDC: 1e-6), counted on confirmed settlement only.',
      labelNames: ['route', 'network', 'asset', 'pay_to'],
      registers,
    }),
    facilitatorRequests: new Counter({
      name: `${PREFIX}facilitator_requests_total`,
      help: 'Facilitator calls by operation and result (ok or the failure kind).',
      labelNames: ['op', 'result'],
      registers,
    }),
    facilitatorDuration: new Histogram({
      name: `${PREFIX}facilitator_duration_seconds`,
      help: 'Facilitator call latency by operation.',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    upstreamDuration: new Histogram({
      name: `${PREFIX}upstream_duration_seconds`,
      help: 'Time to the upstream response headers, by route id.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    verifyCache: new Counter({
      name: `${PREFIX}verify_cache_total`,
      help: 'Verify cache lookups: hit, negative_hit, miss.',
      labelNames: ['result'],
      registers,
    }),
    inFlight: new Gauge({
      name: `${PREFIX}in_flight`,
      help: 'Requests being handled by the gateway.',
      registers,
    }),
    facilitatorUp: new Gauge({
      name: `${PREFIX}facilitator_up`,
      help: '1 when the last facilitator call got an answer, 0 when it failed to.',
      registers,
    }),
  };
}
