/**
 * Verify: the facilitator client, the replay guard, the verify cache, and facilitator readiness.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { LruVerifyCache, verifyDigest } from './cache.js';
export { HttpFacilitatorClient, requestBody, type RequestHeaders } from './facilitator.js';
export { CdpAuth, cdpUri } from './cdp-auth.js';
export {
  FacilitatorPool,
  labelInDetail,
  Member as FacilitatorMember,
  viaDetail,
  type Routed,
  type SettleRoute,
} from './failover.js';
export { watchFacilitatorPool, type PoolMember, type WatchedPool } from './failover-watch.js';
export {
  DEFAULT_REFRESH_MS,
  watchFacilitatorSupport,
  type FacilitatorVerdicts,
  type FacilitatorWatch,
} from './readiness.js';
export { classifyVerdict, FACILITATOR_SIDE_REFUSALS, PAYER_CAUSED_REFUSALS } from './verdicts.js';
export { InMemoryReplayGuard } from './replay.js';
export {
  RedisReplayGuard,
  type RedisReplayGuardOptions,
  type StoreErrorKind,
  type StoreHealth,
  type StoreSettings,
} from './redis-replay.js';
export {
  LOCAL_VERDICTS,
  LocalSignatureCheck,
  type LocalCheckInput,
  type LocalVerdict,
} from './local-check.js';
export { RedisCounters, type RedisCountersOptions } from './redis-counters.js';
export { replayKey } from './replay-key.js';
export type {
  Awaitable,
  ClaimOutcome,
  FacilitatorClient,
  FacilitatorRequest,
  FacilitatorResult,
  ReplayGuard,
  SettleOptions,
  SupportedResponse,
  VerifyCache,
} from './types.js';
