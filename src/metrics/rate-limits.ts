/**
 * The rate limits (pipeline/rate-limits.ts): requests refused with 429 by limit, the addresses each
 * limit remembers, and the fleet sync's pushes. Every series exists at 0 from start-up, so
 * increase() and the alert see the first refusal.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The one list of limits: `challenges` (402 challenges per second per client address),
 * `client_failures` (failed payments per minute per client address), `payer_failures` (failures a
 * payer's own key caused, per minute per payer address).
 */
export type RateLimitName = 'challenges' | 'client_failures' | 'payer_failures';
export const RATE_LIMIT_NAMES: readonly RateLimitName[] = Object.freeze([
  'challenges',
  'client_failures',
  'payer_failures',
]);

export interface RateLimitMetrics {
  /** A request refused with 429 by `limit`. */
  limited(limit: RateLimitName): void;
  /** A push of local counts to the shared store: ok, or failed (limits per instance meanwhile). */
  synced(result: 'ok' | 'failed'): void;
  /** Where the `rate_limit_tracked` gauge reads each limit's remembered addresses when scraped. */
  track(read: (limit: RateLimitName) => number): void;
}

export function createRateLimitMetrics(prefix: string, registry: Registry): RateLimitMetrics {
  const registers = [registry];
  const limited = new Counter({
    name: `${prefix}rate_limited_total`,
    help: 'Requests refused with 429 by a rate limit: challenges (402 challenges per second per client address), client_failures (failed payments per minute per client address), payer_failures (failures the payer key caused, per minute per payer).',
    labelNames: ['limit'],
    registers,
  });
  for (const limit of RATE_LIMIT_NAMES) limited.inc({ limit }, 0);
  const syncs = new Counter({
    name: `${prefix}rate_limit_syncs_total`,
    help: 'Pushes of local rate-limit counts to the shared store (store.redis), by result: ok, or failed (each instance then limits on its own counts).',
    labelNames: ['result'],
    registers,
  });
  for (const result of ['ok', 'failed']) syncs.inc({ result }, 0);
  let read: (limit: RateLimitName) => number = () => 0;
  new Gauge({
    name: `${prefix}rate_limit_tracked`,
    // Each cluster worker keeps its own tables: the process remembers their sum.
    aggregator: 'sum',
    help: 'Addresses each rate limit remembers now (bounded by rateLimits.maxTrackedAddresses).',
    labelNames: ['limit'],
    registers,
    collect() {
      for (const limit of RATE_LIMIT_NAMES) this.labels(limit).set(read(limit));
    },
  });
  // Each limit's counter is looked up once, not per refusal.
  const series = new Map(RATE_LIMIT_NAMES.map((l) => [l, limited.labels(l)] as const));
  return {
    limited(limit) {
      series.get(limit)!.inc();
    },
    synced(result) {
      syncs.labels(result).inc();
    },
    track(reader) {
      read = reader;
    },
  };
}
