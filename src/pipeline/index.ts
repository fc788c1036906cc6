/**
 * The request pipeline: the ordered stages (stages.ts) and the handler that runs them.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export type { Deps } from './deps.js';
export { createHandler, type RequestHandler } from './run.js';
export { Generations } from './generations.js';
export { STAGES } from './stages.js';
export { GATEWAY_REASON } from './reasons.js';
export { ClientShares } from './client-shares.js';
export { createProxyTrust } from './client-address.js';
export { expectsContinue } from './refused-body.js';
export { RateLimits, type FleetCounters } from './rate-limits.js';
export type { RouteTarget, Upstream, UpstreamSet } from './upstreams.js';
