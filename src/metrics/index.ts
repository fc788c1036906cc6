/**
 * Metrics: the Prometheus registry and series, and the admin listener (/metrics, /healthz, /readyz,
 * POST /ledger/reconcile).
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { createMetrics, type GatewayMetrics, statusClass } from './registry.js';
export { type AdminActions, createAdminServer, type Readiness } from './server.js';
export {
  createReadiness,
  type CheckResult,
  type PaidReadiness,
  type ReadinessCheck,
  type ReadyzBody,
} from './readiness.js';
export { createReasonLabels, OTHER_REASON, type ReasonLabels } from './reason-labels.js';
export { STORE_FAILURES, type StoreFailure } from './store.js';
export { createClusterMetrics, type ClusterMetrics } from './cluster.js';
export {
  BREAKER_STATE,
  type BreakerStateName,
  type FacilitatorMetrics,
  type FailoverCause,
} from './facilitators.js';
export { RATE_LIMIT_NAMES, type RateLimitName } from './rate-limits.js';
