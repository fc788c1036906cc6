/**
 * The x402 wire: what the client sent (decode, select, local checks), the 402 challenge, the
 * facilitator request body and the settlement receipt header. No I/O.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { type Challenge, createChallenge } from './challenge.js';
export { decodePaymentHeader } from './codec.js';
export { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, HEADER } from './headers.js';
export { precheck } from './precheck.js';
export { PAYER_KEY_REFUSALS, PAYMENT_REFUSALS, REASON } from './reasons.js';
export { facilitatorRequest } from './requirements.js';
export { selectOffer } from './select.js';
export { encodeSettlementHeader } from './settlement.js';
export type {
  ExactEvmAuthorization,
  Offer,
  PaymentPayload,
  PaymentRequirementsV1,
  PaymentRequirementsV2,
  Resource,
  SettleResponse,
  SupportedKind,
  VerifyResponse,
} from './types.js';
