/**
 * The facilitator deadlines a request's phases are bounded by. With a failover list, a payment may
 * be verified or settled by any of its facilitators, so every bound that must hold whichever one
 * answers (the route's maxTimeoutSeconds check, the claim and settle leases, the settle phase's
 * cut) counts the longest of the list.
 */
import type { FacilitatorConfig } from './types.js';

export interface FacilitatorDeadlines {
  readonly verifyTimeoutMs: number;
  readonly settleTimeoutMs: number;
}

export function facilitatorDeadlines(config: {
  readonly facilitators: readonly FacilitatorConfig[];
}): FacilitatorDeadlines {
  let verifyTimeoutMs = 0;
  let settleTimeoutMs = 0;
  for (const f of config.facilitators) {
    verifyTimeoutMs = Math.max(verifyTimeoutMs, f.verifyTimeoutMs);
    settleTimeoutMs = Math.max(settleTimeoutMs, f.settleTimeoutMs);
  }
  return { verifyTimeoutMs, settleTimeoutMs };
}
