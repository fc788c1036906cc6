/**
 * x402 HTTP header names and the CORS values the gateway sends (docs/protocol.md §4.1, §6).
 * Names are lower-case because node lower-cases incoming header names; HTTP header names are
 * case-insensitive on the wire, so lower-case is also fine for outgoing ones.
 */

/** v2 client → server: base64(PaymentPayload). Read first. */
export const PAYMENT_SIGNATURE = 'payment-signature';
/** v1 client → server: base64(PaymentPayload); v2 clients also use it to pay a v1 body. */
export const X_PAYMENT = 'x-payment';
/** Server → client on 402: base64(v2 PaymentRequired). */
export const PAYMENT_REQUIRED = 'payment-required';
/** Server → client after settling a v2 payload: base64(SettleResponse). */
export const PAYMENT_RESPONSE = 'payment-response';
/** Server → client after settling a v1 payload: base64(SettlementResponse). */
export const X_PAYMENT_RESPONSE = 'x-payment-response';

/**
 * `Access-Control-Expose-Headers` on 402s and paid responses, so browser clients can read the
 * challenge and the receipt.
 */
export const CORS_EXPOSE_HEADERS = 'PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE';

/**
 * `Access-Control-Allow-Headers` for preflights. Official clients add a request header
 * `Access-Control-Expose-Headers` on the paid retry, which triggers a preflight
 * (docs/protocol.md §6.1).
 */
export const CORS_ALLOW_HEADERS =
  'PAYMENT-SIGNATURE, X-PAYMENT, Access-Control-Expose-Headers, Content-Type';

/** `Cache-Control` of every 402 challenge (same as the official server). */
export const CHALLENGE_CACHE_CONTROL = 'no-store';

/** `Content-Type` of the 402 body (the v1 PaymentRequirementsResponse). */
export const CHALLENGE_CONTENT_TYPE = 'application/json';

/** The header names above as one object, for `headers[HEADER.paymentSignature]`-style lookups. */
export const HEADER = Object.freeze({
  paymentSignature: PAYMENT_SIGNATURE,
  xPayment: X_PAYMENT,
  paymentRequired: PAYMENT_REQUIRED,
  paymentResponse: PAYMENT_RESPONSE,
  xPaymentResponse: X_PAYMENT_RESPONSE,
} as const);
