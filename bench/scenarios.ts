/**
 * What a measured run sends. Each scenario names the path, the payment (if any), the status a
 * correct system answers with, and the facilitator stub's delay.
 */
import type { BenchEnv } from './env.js';

export interface Scenario {
  readonly name: string;
  /** What the row measures, for the README and the report. */
  readonly what: string;
  readonly path: string;
  readonly pay: 'none' | 'v1' | 'v2';
  /** The status every response should have (402 for the challenge scenario). */
  readonly expect: number;
  readonly slowFacilitator: boolean;
}

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  free: {
    name: 'free',
    what: 'unpriced request forwarded to the upstream',
    path: '/free',
    pay: 'none',
    expect: 200,
    slowFacilitator: false,
  },
  '402': {
    name: '402',
    what: 'priced route without payment: the 402 challenge',
    path: '/paid',
    pay: 'none',
    expect: 402,
    slowFacilitator: false,
  },
  'paid-v2': {
    name: 'paid-v2',
    what: 'paid with PAYMENT-SIGNATURE (v2): verify, forward, settle',
    path: '/paid',
    pay: 'v2',
    expect: 200,
    slowFacilitator: false,
  },
  'paid-v1': {
    name: 'paid-v1',
    what: 'paid with X-PAYMENT (v1): verify, forward, settle',
    path: '/paid',
    pay: 'v1',
    expect: 200,
    slowFacilitator: false,
  },
  'paid-v2-slow': {
    name: 'paid-v2-slow',
    what: 'paid v2 with the facilitator stub answering after the slow delay',
    path: '/paid',
    pay: 'v2',
    expect: 200,
    slowFacilitator: true,
  },
  'paid-v1-slow': {
    name: 'paid-v1-slow',
    what: 'paid v1 with the facilitator stub answering after the slow delay',
    path: '/paid',
    pay: 'v1',
    expect: 200,
    slowFacilitator: true,
  },
};

export function scenario(name: string): Scenario {
  const s = SCENARIOS[name];
  if (!s) throw new Error(`unknown scenario ${name} (known: ${Object.keys(SCENARIOS).join(', ')})`);
  return s;
}

/** The facilitator delay a scenario runs with. */
export function latencyFor(env: BenchEnv, s: Scenario): number {
  return s.slowFacilitator ? env.slowFacilitatorLatencyMs : env.facilitatorLatencyMs;
}

/** Scale scenarios: a generated config with `routes` routes; the request hits one near the end. */
export function scaleScenarios(routes: number): Scenario[] {
  return [
    {
      name: `scale-${routes}-free`,
      what: `free route, last of ${routes}`,
      path: `/api/r${routes - 1}/items/42`,
      pay: 'none',
      expect: 200,
      slowFacilitator: false,
    },
    {
      name: `scale-${routes}-402`,
      what: `priced route, next to last of ${routes}, unpaid`,
      path: `/api/r${routes - 2}/items/42`,
      pay: 'none',
      expect: 402,
      slowFacilitator: false,
    },
  ];
}
