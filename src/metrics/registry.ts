/**
 * Every metric the gateway exports, in one place, on its own registry (never prom-client's global).
 * Labels use route ids from config, never raw paths, so cardinality is bounded by the config.
 *
 * Metrics updated on the request path are series (series.ts: no label hashing per update); the two
 * gauges are read when scraped. prom-client's own metric objects remain for what is not per request.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from './series.js';

const PREFIX = 'x402_gateway_';

/** Latency buckets in seconds: 1 ms … 30 s (facilitators and upstreams range from loopback to chain). */
const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** A 0/1 level read when scraped. */
export interface Level {
  set(value: 0 | 1): void;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: SeriesCounter<'route' | 'outcome'>;
  readonly payments: SeriesCounter<'outcome' | 'reason'>;
  readonly settlements: SeriesCounter<'result'>;
  /** Atomic units of the asset; counted only on confirmed settlement. */
  readonly revenue: SeriesCounter<'route' | 'network' | 'asset' | 'pay_to'>;
  readonly facilitatorRequests: SeriesCounter<'op' | 'result'>;
  readonly facilitatorDuration: SeriesHistogram<'op'>;
  readonly upstreamDuration: SeriesHistogram<'route'>;
  readonly verifyCache: SeriesCounter<'result'>;
  readonly facilitatorUp: Level;
}

export interface MetricsOptions {
  readonly defaultMetrics?: boolean;
  /** The gateway's in-flight count, exported as `in_flight` when scraped. */
  readonly inFlight?: { readonly count: number };
}

export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const registers = [registry];
  const inFlight = options.inFlight ?? { count: 0 };
  let facilitatorUp = 0;
  new Gauge({
    name: `${PREFIX}in_flight`,
    help: 'Requests being handled by the gateway.',
    registers,
    collect() {
      this.set(inFlight.count);
    },
  });
  new Gauge({
    name: `${PREFIX}facilitator_up`,
    help: '1 when the last facilitator call got an answer, 0 when it failed to.',
    registers,
    collect() {
      this.set(facilitatorUp);
    },
  });
  return {
    registry,
    facilitatorUp: {
      set(value) {
        facilitatorUp = value;
      },
    },
    requests: new SeriesCounter({
      name: `${PREFIX}requests_total`,
      help: 'Requests by route id and outcome.',
      labelNames: ['route', 'outcome'],
      registry,
    }),
    payments: new SeriesCounter({
      name: `${PREFIX}payments_total`,
      help: 'Payment attempts by outcome and reason (reasons mapped to a known set plus "other").',
      labelNames: ['outcome', 'reason'],
      registry,
    }),
    settlements: new SeriesCounter({
      name: `${PREFIX}settlements_total`,
      help: 'Settlement attempts by result: success, declined, pending, failed (decided on chain).',
      labelNames: ['result'],
      registry,
    }),
    revenue: new SeriesCounter({
      name: `${PREFIX}revenue_atomic_total`,
      help: 'Revenue in atomic units of the asset (USDC: 1e-6), counted on confirmed settlement only.',
      labelNames: ['route', 'network', 'asset', 'pay_to'],
      registry,
    }),
    facilitatorRequests: new SeriesCounter({
      name: `${PREFIX}facilitator_requests_total`,
      help: 'Facilitator calls by operation and result (ok or the failure kind).',
      labelNames: ['op', 'result'],
      registry,
    }),
    facilitatorDuration: new SeriesHistogram({
      name: `${PREFIX}facilitator_duration_seconds`,
      help: 'Facilitator call latency by operation.',
      labelNames: ['op'],
      buckets: LATENCY_BUCKETS,
      registry,
    }),
    upstreamDuration: new SeriesHistogram({
      name: `${PREFIX}upstream_duration_seconds`,
      help: 'Time to the upstream response headers, by route id.',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registry,
    }),
    verifyCache: new SeriesCounter({
      name: `${PREFIX}verify_cache_total`,
      help: 'Verify cache lookups: hit, negative_hit, miss.',
      labelNames: ['result'],
      registry,
    }),
  };
}
