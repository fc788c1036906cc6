/**
 * Each upstream's health (proxy/upstream-health.ts): `upstream_up{upstream}` (1 up, 0 down: its
 * priced routes answer 503 upstream_down instead of 402) and `upstream_state_changes_total
 * {upstream,state}`. Labels are the configured upstream names: bounded by the config.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface UpstreamHealthMetrics {
  /** An upstream exists, up: its series start at 1 and 0 changes. */
  declare(upstream: string): void;
  /** It went up or down. */
  changed(upstream: string, state: 'up' | 'down'): void;
}

export function createUpstreamHealthMetrics(
  prefix: string,
  registry: Registry,
): UpstreamHealthMetrics {
  const up = new Gauge({
    name: `${prefix}upstream_up`,
    // Across cluster workers: down if any worker sees it down (each tracks its own health).
    aggregator: 'min',
    help: '1 while the upstream is up, 0 while it is down (its priced routes answer 503 upstream_down instead of 402).',
    labelNames: ['upstream'],
    registers: [registry],
  });
  const changes = new Counter({
    name: `${prefix}upstream_state_changes_total`,
    help: 'Upstream health changes by upstream and the state entered (up, down).',
    labelNames: ['upstream', 'state'],
    registers: [registry],
  });
  return {
    declare(upstream) {
      up.set({ upstream }, 1);
      changes.inc({ upstream, state: 'up' }, 0);
      changes.inc({ upstream, state: 'down' }, 0);
    },
    changed(upstream, state) {
      up.set({ upstream }, state === 'up' ? 1 : 0);
      changes.inc({ upstream, state });
    },
  };
}
