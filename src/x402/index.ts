/**
 * x402 wire handling: what the client sent, what we answer. Pure functions, no I/O, no node:http.
 */
export * from './types.js';
export * from './networks.js';
export { REASON, OTHER_REASON, metricReason, knownMetricReasons } from './reasons.js';
export type { Reason } from './reasons.js';
export {
  HEADER,
  PAYMENT_SIGNATURE,
  X_PAYMENT,
  PAYMENT_REQUIRED,
  PAYMENT_RESPONSE,
  X_PAYMENT_RESPONSE,
  CORS_EXPOSE_HEADERS,
  CORS_ALLOW_HEADERS,
  CHALLENGE_CACHE_CONTROL,
  CHALLENGE_CONTENT_TYPE,
} from './headers.js';
export { decodePaymentHeader, encodeHeaderJson } from './codec.js';
export type { DecodeResult } from './codec.js';
export {
  paymentPayloadV1Schema,
  paymentPayloadV2Schema,
  exactEvmPayloadSchema,
  isHexAddress,
  isBytes32,
  isUintString,
  MIN_SIGNATURE_HEX_CHARS,
  MAX_SIGNATURE_HEX_CHARS,
  MAX_UINT_DIGITS,
} from './schemas.js';
export { createChallenge, DEFAULT_V1_ERROR, DEFAULT_V2_ERROR } from './challenge.js';
export type { Challenge, ChallengeParts } from './challenge.js';
export { v1Requirements, facilitatorRequest } from './requirements.js';
export type { FacilitatorRequestBody } from './requirements.js';
export { selectOffer } from './select.js';
export { precheck } from './precheck.js';
export type { PrecheckReason, PrecheckResult } from './precheck.js';
export { encodeSettlementHeader, replayKey } from './settlement.js';
export type { SettlementHeader } from './settlement.js';
