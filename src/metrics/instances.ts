/**
 * The fleet's heartbeat rows in a shared Postgres book (src/ledger/postgres-instances.ts): how many
 * instances are live there, as this instance's last beat found it, and the beats that failed.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface InstanceMetrics {
  /** A beat found `live` instances (this one included). */
  live(count: number): void;
  /** A beat failed: the row was not refreshed (it is tried again at the next interval). */
  beatFailed(): void;
}

export function createInstanceMetrics(prefix: string, registry: Registry): InstanceMetrics {
  const live = new Gauge({
    name: `${prefix}instances_live`,
    // Read from the shared book by every worker: a sum would count each instance once per worker.
    aggregator: 'max',
    help: 'Gateway instances live on the shared Postgres ledger (heartbeat rows seen within 3 intervals), this one included; 0 without a Postgres ledger.',
    registers: [registry],
  });
  const failures = new Counter({
    name: `${prefix}instance_heartbeat_failures_total`,
    help: 'Heartbeat rows this instance could not refresh in the shared Postgres ledger (paid requests are not affected).',
    registers: [registry],
  });
  live.set(0);
  failures.inc(0);
  return {
    live(count) {
      live.set(count);
    },
    beatFailed() {
      failures.inc();
    },
  };
}
