/**
 * Verify: the facilitator client, the replay guard, the verify cache, and facilitator readiness.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { LruVerifyCache, verifyDigest } from './cache.js';
export { HttpFacilitatorClient, requestBody } from './facilitator.js';
export { watchFacilitatorSupport } from './readiness.js';
export { InMemoryReplayGuard } from './replay.js';
export { replayKey } from './replay-key.js';
export type {
  Awaitable,
  ClaimOutcome,
  FacilitatorClient,
  FacilitatorRequest,
  FacilitatorResult,
  ReplayGuard,
  SupportedResponse,
  VerifyCache,
} from './types.js';
