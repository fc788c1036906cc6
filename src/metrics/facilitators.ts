/**
 * The failover list's health (verify/failover.ts): each facilitator's circuit, and the calls that
 * went to another facilitator than the first choice. Labels are the entries' names (or indexes),
 * bounded by the config and never a URL (one may carry credentials).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** `facilitator_breaker_state` values. */
export const BREAKER_STATE = Object.freeze({ closed: 0, half_open: 1, open: 2 });
export type BreakerStateName = keyof typeof BREAKER_STATE;

/** Why a call went past a facilitator: its circuit was open, or the request surely never left. */
export type FailoverCause = 'circuit_open' | 'not_sent' | 'unsupported' | 'fault';

export interface FacilitatorMetrics {
  /** The list now in use (a reload replaces it): its circuits' series, and only those, are kept. */
  use(labels: readonly string[]): void;
  breaker(label: string, state: BreakerStateName): void;
  /** One call moved past `from` to the next facilitator. */
  failover(op: 'verify' | 'settle', cause: FailoverCause): void;
}

export function createFacilitatorMetrics(prefix: string, registry: Registry): FacilitatorMetrics {
  const breaker = new Gauge({
    name: `${prefix}facilitator_breaker_state`,
    // Across cluster workers: the worst circuit (each worker keeps its own).
    aggregator: 'max',
    help: "Each facilitator's circuit (failover list order, by name or index): 0 closed, 1 half-open (one trial call), 2 open (skipped: faults in a row).",
    labelNames: ['facilitator'],
    registers: [registry],
  });
  const failovers = new Counter({
    name: `${prefix}facilitator_failovers_total`,
    help: 'Facilitator calls that went past a facilitator to the next in the list, by operation and cause (circuit_open, not_sent, unsupported, fault).',
    labelNames: ['op', 'cause'],
    registers: [registry],
  });
  for (const op of ['verify', 'settle']) {
    for (const cause of ['circuit_open', 'not_sent', 'unsupported', 'fault']) {
      failovers.inc({ op, cause }, 0);
    }
  }
  return {
    use(labels) {
      breaker.reset();
      for (const label of labels) breaker.labels(label).set(BREAKER_STATE.closed);
    },
    breaker(label, state) {
      breaker.labels(label).set(BREAKER_STATE[state]);
    },
    failover(op, cause) {
      failovers.labels(op, cause).inc();
    },
  };
}
