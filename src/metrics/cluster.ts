/**
 * The cluster primary's own series (server.workers > 1): how many workers serve, how often one had
 * to be restarted, and the book's revenue at start-up. The workers' series are merged with these
 * in one scrape of the admin listener (cli/cluster/primary-admin.ts).
 */
import { Counter, Gauge, Registry } from 'prom-client';

const PREFIX = 'x402_gateway_';

/** One revenue total of the book (ledger's RevenueTotal, as far as the series need it). */
export interface BookRevenue {
  readonly route: string;
  readonly network: string;
  readonly asset: string;
  readonly payTo: string;
  /** Atomic units, decimal. */
  readonly amount: string;
}

export interface ClusterMetrics {
  readonly registry: Registry;
  workersUp(n: number): void;
  /** A worker exited unexpectedly and is being replaced; `reason` is `exit` or `signal`. */
  restarted(reason: 'exit' | 'signal'): void;
  /** The book's revenue when the first worker opened it: the revenue series start there. */
  seedRevenue(totals: readonly BookRevenue[]): void;
}

export function createClusterMetrics(configured: number): ClusterMetrics {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({
    name: `${PREFIX}workers_configured`,
    help: 'Workers the primary runs (server.workers).',
    registers,
  }).set(configured);
  const up = new Gauge({
    name: `${PREFIX}workers_up`,
    help: 'Workers serving now (listening, not exited).',
    registers,
  });
  up.set(0);
  const restarts = new Counter({
    name: `${PREFIX}worker_restarts_total`,
    help: 'Workers that exited unexpectedly and were started again, by how they ended (exit, signal).',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of ['exit', 'signal']) restarts.inc({ reason }, 0);
  const revenue = new Counter({
    name: `${PREFIX}revenue_atomic_total`,
    help: 'Revenue in atomic units of the asset (USDC: 1e-6), counted once per payment when its settlement is recorded (durable), by the request or the reconciler.',
    labelNames: ['route', 'network', 'asset', 'pay_to'],
    registers,
  });
  return {
    registry,
    workersUp: (n) => up.set(n),
    restarted: (reason) => restarts.inc({ reason }),
    seedRevenue(totals) {
      for (const t of totals) {
        revenue.inc(
          { route: t.route, network: t.network, asset: t.asset, pay_to: t.payTo },
          Number(t.amount),
        );
      }
    },
  };
}
