/**
 * The shared store (`store.redis`): its failures by kind. Each series exists at 0 from start-up, so
 * increase() sees the first failure. A non-zero rate means paid requests are being refused (503
 * replay_store_unavailable) or a claim was left to its lease.
 */
import { Counter, type Registry } from 'prom-client';

/**
 * The one list of the shared store's failure kinds: the Redis replay guard (src/verify/) sorts its
 * errors into these. timeout: no answer within `store.redis.commandTimeoutMs`; connection: not
 * connected, or a connection attempt failed; script: Redis answered with an error (OOM, READONLY,
 * a script error).
 */
export type StoreFailure = 'timeout' | 'connection' | 'script';
export const STORE_FAILURES: readonly StoreFailure[] = Object.freeze([
  'timeout',
  'connection',
  'script',
]);

export interface StoreMetrics {
  /** A store command or connection attempt failed. */
  failed(kind: StoreFailure): void;
}

export function createStoreMetrics(prefix: string, registry: Registry): StoreMetrics {
  const errors = new Counter({
    name: `${prefix}store_errors_total`,
    help: 'Failures of the shared store (store.redis) by kind: timeout (no answer within commandTimeoutMs), connection (not connected, or a connection attempt failed), script (Redis answered with an error: OOM, READONLY, a script error).',
    labelNames: ['kind'],
    registers: [registry],
  });
  for (const kind of STORE_FAILURES) errors.inc({ kind }, 0);
  return {
    failed(kind) {
      errors.labels(kind).inc();
    },
  };
}
