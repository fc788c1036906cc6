/**
 * What the cluster's primary and its workers say to each other over node's IPC channel. Every
 * message carries `x402` so neither side mistakes prom-client's or node's own messages for one.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { RevenueTotal } from '../../ledger/index.js';
import type { ReadyzBody } from '../../metrics/index.js';

/** What the primary asks one worker, answered by the same `id`. */
export type Question = 'metrics' | 'readyz' | 'reconcile';

export type ToWorker =
  | { readonly x402: 'ask'; readonly id: number; readonly question: Question }
  /** Reload the config (the primary got SIGHUP). */
  | { readonly x402: 'reload' }
  /** Drain and exit (the primary got SIGTERM or SIGINT). */
  | { readonly x402: 'stop' };

export type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

export type ToPrimary =
  | {
      readonly x402: 'answer';
      readonly id: number;
      readonly value?: WorkerMetrics | ReadyzBody | Readonly<Record<string, number>>;
      readonly error?: string;
    }
  /** The book's revenue when the first worker opened it: the primary starts its series there. */
  | { readonly x402: 'revenue'; readonly totals: readonly RevenueTotal[] };

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && 'x402' in m;
}

export function isToPrimary(m: unknown): m is ToPrimary {
  return typeof m === 'object' && m !== null && 'x402' in m;
}
