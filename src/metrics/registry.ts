/**
 * Every metric the gateway exports, in one place, on its own registry (never prom-client's global).
 * Labels use route ids from config, never raw paths, so cardinality is bounded by the config.
 *
 * Metrics updated on the request path are series (series.ts: no label hashing per update); the two
 * gauges are read when scraped. prom-client's own metric objects remain for what is not per request.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { SeriesCounter, SeriesHistogram } from './series.js';
import { gatewayVersion } from './build-info.js';
import { createConfigReloadMetrics, type ConfigReloadMetrics } from './config-reload.js';
import { createStoreMetrics, type StoreMetrics } from './store.js';
import { createInstanceMetrics, type InstanceMetrics } from './instances.js';
import { createFacilitatorMetrics, type FacilitatorMetrics } from './facilitators.js';
import { createRateLimitMetrics, type RateLimitMetrics } from './rate-limits.js';
import { createUpstreamHealthMetrics, type UpstreamHealthMetrics } from './upstream-health.js';

const PREFIX = 'x402_gateway_';

/** Latency buckets in seconds: 1 ms … 30 s (facilitators and upstreams range from loopback to chain). */
const LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/**
 * Label values known in advance, exported at 0 from the start: a counter that first appears at 1
 * is missed by increase() and by alerts on it (issue 13). Facilitator failure kinds as
 * verify/types.ts names them.
 */
export const KNOWN_LABELS = Object.freeze({
  settlements: ['success', 'declined', 'pending', 'failed'],
  verifyCache: ['hit', 'negative_hit', 'miss'],
  facilitatorOps: ['verify', 'settle', 'supported'],
  facilitatorResults: ['ok', 'timeout', 'network', 'http_error', 'bad_response'],
  credits: ['granted', 'consumed', 'refused'],
  verified: ['facilitator', 'cache'],
} as const);

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** The `class` label of an HTTP status: `2xx` for 200 … 299, `other` outside 100 … 599. */
export function statusClass(status: number): string {
  return STATUS_CLASSES[Math.floor(status / 100)] ?? 'other';
}

/** A 0/1 level read when scraped. */
export interface Level {
  set(value: 0 | 1): void;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requests: SeriesCounter<'route' | 'outcome'>;
  readonly payments: SeriesCounter<'outcome' | 'reason'>;
  /**
   * Payments that passed verification (the funnel's "verified" step), by where the verdict came
   * from: the facilitator, or the verify cache.
   */
  readonly verified: SeriesCounter<'source'>;
  readonly settlements: SeriesCounter<'result'>;
  /** Atomic units of the asset; counted only on confirmed settlement. */
  readonly revenue: SeriesCounter<'route' | 'network' | 'asset' | 'pay_to'>;
  readonly facilitatorRequests: SeriesCounter<'op' | 'result'>;
  readonly facilitatorDuration: SeriesHistogram<'op'>;
  readonly upstreamDuration: SeriesHistogram<'route'>;
  /** Upstream responses by route id and status class (`2xx` … `5xx`, `other`). */
  readonly upstreamResponses: SeriesCounter<'route' | 'class'>;
  readonly verifyCache: SeriesCounter<'result'>;
  /**
   * Local signature checks (verify/local-check.ts) by outcome: `refused` answered the payment
   * without a facilitator call; every other outcome went on to the facilitator.
   */
  readonly signatureChecks: SeriesCounter<'outcome'>;
  readonly facilitatorUp: Level;
  readonly ledger: LedgerMetrics;
  readonly credits: SeriesCounter<'outcome'>;
  /** Each priced asset's scale, for PromQL to turn `revenue_atomic_total` into token units. */
  readonly assets: AssetScales;
  /** Config reloads (config-reload.ts). */
  readonly configReloads: ConfigReloadMetrics;
  /** The shared store's failures (store.ts). */
  readonly store: StoreMetrics;
  /** The instances live on a shared Postgres ledger, and failed heartbeats (instances.ts). */
  readonly instances: InstanceMetrics;
  /** The facilitator failover list's circuits and failovers (facilitators.ts). */
  readonly facilitators: FacilitatorMetrics;
  /** 429s by rate limit, tracked addresses, fleet syncs (rate-limits.ts). */
  readonly rateLimits: RateLimitMetrics;
  /** Each upstream's health (upstream-health.ts). */
  readonly upstreams: UpstreamHealthMetrics;
  /**
   * The built-in facilitator's settler balance gauge, `settler_balance_wei`: registered on the first
   * call, so it is exported only by a gateway that settles itself.
   */
  settlerBalance(): { set(wei: bigint): void };
}

/** `asset_scale{network,asset,symbol,decimals}` = 10^decimals, one series per asset offered. */
export interface AssetScales {
  declare(asset: {
    readonly network: string;
    readonly asset: string;
    readonly symbol: string;
    readonly decimals: number;
  }): void;
}

/** The book of record's health, for operators and alerts. */
export interface LedgerMetrics {
  /** Records per unresolved state (`settling`, `unknown`), kept as they move. */
  readonly unresolved: {
    add(state: string, delta: number): void;
    reset(counts: Readonly<Record<string, number>>): void;
  };
  /** Creation time (unix ms) of the oldest unresolved record, or undefined for none. */
  setOldestUnresolved(createdAtMs: number | undefined): void;
  readonly reconciled: SeriesCounter<'outcome'>;
  readonly writeSeconds: SeriesHistogram<never>;
  readonly errors: SeriesCounter<'kind'>;
}

/** Write-ahead latency buckets, seconds: 100 µs … 1 s (an fsync on a slow disk). */
const WRITE_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

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
    // Cluster workers (server.workers): each counts its own requests, so the process is the sum.
    aggregator: 'sum',
    help: 'Requests being handled by the gateway.',
    registers,
    collect() {
      this.set(inFlight.count);
    },
  });
  new Gauge({
    name: `${PREFIX}facilitator_up`,
    // Across workers: down if any worker's last call failed.
    aggregator: 'min',
    help: '1 when the last facilitator call got an answer, 0 when it failed to.',
    registers,
    collect() {
      this.set(facilitatorUp);
    },
  });
  new Gauge({
    name: `${PREFIX}build_info`,
    aggregator: 'first',
    help: 'Always 1; its labels name the running build (gateway version, Node.js version).',
    labelNames: ['version', 'node_version'],
    registers,
  })
    .labels(gatewayVersion(), process.version)
    .set(1);
  const unresolved = new Map<string, number>([
    ['settling', 0],
    ['unknown', 0],
  ]);
  new Gauge({
    name: `${PREFIX}ledger_unresolved`,
    // Read from the shared book by every worker: a sum would count each record once per worker.
    aggregator: 'max',
    help: 'Ledger records whose money may have moved and is not yet known to have (settling, unknown).',
    labelNames: ['state'],
    registers,
    collect() {
      for (const [state, n] of unresolved) this.labels(state).set(n);
    },
  });
  let oldestUnresolvedMs: number | undefined;
  new Gauge({
    name: `${PREFIX}ledger_oldest_unresolved_seconds`,
    aggregator: 'max',
    help: 'Age of the oldest unresolved ledger record, seconds (0 when none).',
    registers,
    collect() {
      this.set(
        oldestUnresolvedMs === undefined
          ? 0
          : Math.max(0, (Date.now() - oldestUnresolvedMs) / 1000),
      );
    },
  });
  const ledger: LedgerMetrics = {
    unresolved: {
      add(state, delta) {
        const n = unresolved.get(state);
        if (n !== undefined) unresolved.set(state, Math.max(0, n + delta));
      },
      reset(counts) {
        for (const state of unresolved.keys()) unresolved.set(state, counts[state] ?? 0);
      },
    },
    setOldestUnresolved(createdAtMs) {
      oldestUnresolvedMs = createdAtMs;
    },
    reconciled: new SeriesCounter({
      name: `${PREFIX}ledger_reconciled_total`,
      help: 'Ledger records visited by reconciliation, by outcome (settled, failed, confirmed, disputed, unresolved, waiting, no_rpc).',
      labelNames: ['outcome'],
      registry,
    }),
    writeSeconds: new SeriesHistogram({
      name: `${PREFIX}ledger_write_seconds`,
      help: 'Time from a durable ledger write to its commit acknowledgement (group commit included).',
      labelNames: [],
      buckets: WRITE_BUCKETS,
      registry,
    }),
    errors: new SeriesCounter({
      name: `${PREFIX}ledger_errors_total`,
      help: 'Ledger failures by kind: open, write, read, unavailable (paid requests get 503).',
      labelNames: ['kind'],
      registry,
    }),
  };
  const assetScale = new Gauge({
    name: `${PREFIX}asset_scale`,
    aggregator: 'first',
    help: 'Atomic units per token (10^decimals) of each asset offered: revenue_atomic_total divided by this is token units (exact while the atomic total is below 2^53).',
    labelNames: ['network', 'asset', 'symbol', 'decimals'],
    registers,
  });
  let settlerBalance: Gauge | undefined;
  const metrics: GatewayMetrics = {
    registry,
    ledger,
    configReloads: createConfigReloadMetrics(PREFIX, registry),
    store: createStoreMetrics(PREFIX, registry),
    instances: createInstanceMetrics(PREFIX, registry),
    facilitators: createFacilitatorMetrics(PREFIX, registry),
    rateLimits: createRateLimitMetrics(PREFIX, registry),
    upstreams: createUpstreamHealthMetrics(PREFIX, registry),
    settlerBalance() {
      settlerBalance ??= new Gauge({
        name: `${PREFIX}settler_balance_wei`,
        aggregator: 'max',
        help: "The built-in facilitator's settler balance (gas money), wei; read every minute.",
        registers,
      });
      const gauge = settlerBalance;
      return { set: (wei) => gauge.set(Number(wei)) };
    },
    assets: {
      declare(a) {
        assetScale.labels(a.network, a.asset, a.symbol, String(a.decimals)).set(10 ** a.decimals);
      },
    },
    credits: new SeriesCounter({
      name: `${PREFIX}credits_total`,
      help: 'Credits of settled, undelivered payments: used, or refused.',
      labelNames: ['outcome'],
      registry,
    }),
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
    verified: new SeriesCounter({
      name: `${PREFIX}payments_verified_total`,
      help: 'Payments that passed verification, by where the verdict came from: facilitator or cache.',
      labelNames: ['source'],
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
      help: 'Revenue in atomic units of the asset (USDC: 1e-6), counted once per payment when its settlement is recorded (durable), by the request or the reconciler.',
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
    upstreamResponses: new SeriesCounter({
      name: `${PREFIX}upstream_responses_total`,
      help: 'Upstream responses by route id and status class (1xx, 2xx, 3xx, 4xx, 5xx, other).',
      labelNames: ['route', 'class'],
      registry,
    }),
    verifyCache: new SeriesCounter({
      name: `${PREFIX}verify_cache_total`,
      help: 'Verify cache lookups: hit, negative_hit, miss.',
      labelNames: ['result'],
      registry,
    }),
    signatureChecks: new SeriesCounter({
      name: `${PREFIX}signature_checks_total`,
      help: 'Local signature checks by outcome: refused (no facilitator call), or why it went on (recovered, has_code, code_unknown, no_rpc, long_signature, unencodable).',
      labelNames: ['outcome'],
      registry,
    }),
  };
  initialiseKnownSeries(metrics);
  return metrics;
}

/** Every known label set exported at 0 before its first event (KNOWN_LABELS). */
function initialiseKnownSeries(metrics: GatewayMetrics): void {
  for (const result of KNOWN_LABELS.settlements) metrics.settlements.labels(result);
  for (const result of KNOWN_LABELS.verifyCache) metrics.verifyCache.labels(result);
  for (const outcome of KNOWN_LABELS.credits) metrics.credits.labels(outcome);
  for (const source of KNOWN_LABELS.verified) metrics.verified.labels(source);
  for (const op of KNOWN_LABELS.facilitatorOps) {
    for (const result of KNOWN_LABELS.facilitatorResults) {
      metrics.facilitatorRequests.labels(op, result);
    }
  }
}
