/**
 * The gateway's own refusal reasons: answers that are not about a payment (the in-flight cap, a bad
 * path, the upstream failing, the client leaving, node's parser refusing a request). Same JSON
 * shape and snake_case as the payment reasons of x402/reasons.ts, and never equal to one of them
 * (a test holds that), so one `reason` string names one cause.
 *
 * Changing a value here is a wire change: clients and dashboards match on these strings.
 */
import { createReasonLabels } from '../metrics/index.js';
import { REASON } from '../x402/index.js';

export const GATEWAY_REASON = Object.freeze({
  upstreamUnavailable: 'upstream_unavailable',
  upstreamTimeout: 'upstream_timeout',
  /** The route's upstream is down (proxy/upstream-health.ts): 503 with Retry-After, never a 402. */
  upstreamDown: 'upstream_down',
  /** Buffer-then-settle route whose upstream body exceeded the buffer cap. */
  upstreamResponseTooLarge: 'upstream_response_too_large',
  /** The client closed the connection before the answer (logged as 499). */
  clientGone: 'client_gone',
  overloaded: 'overloaded',
  /** One client address holds its share (`server.limits.maxClientShare`) of requests in flight (429). */
  clientShareExceeded: 'client_share_exceeded',
  /** A client address over `rateLimits.challengesPerSecond` asked for another 402 challenge (429). */
  challengeRateExceeded: 'challenge_rate_exceeded',
  /** A client address over `rateLimits.failuresPerMinute.perClient` sent another payment (429). */
  paymentFailureRateExceeded: 'payment_failure_rate_exceeded',
  /** A payer over `rateLimits.failuresPerMinute.perPayer` (failures its key caused) paid again (429). */
  payerFailureRateExceeded: 'payer_failure_rate_exceeded',
  /** A request body stopped arriving for `server.limits.bodyIdleTimeoutMs` (408). */
  bodyTimeout: 'body_timeout',
  invalidPath: 'invalid_path',
  /** A request header the gateway reads (CORS preflight) is not well-formed (400). */
  invalidHeader: 'invalid_header',
  /** `_method` / X-HTTP-Method-Override would make the upstream serve another route's price (400). */
  methodOverride: 'method_override',
  notFound: 'not_found',
  payloadTooLarge: 'payload_too_large',
  internalError: 'internal_error',
  /** Request headers over `server.limits.maxHeaderBytes` (431, refused by node's parser). */
  headerTooLarge: 'header_too_large',
  /** The request was not received within `server.limits.requestTimeoutMs` (408). */
  requestTimeout: 'request_timeout',
  /** Not parseable as HTTP/1.1 (400, refused by node's parser). */
  invalidRequest: 'invalid_request',
  /** No facilitator of the list lists the payment's network in `/supported` (503). */
  noFacilitatorForNetwork: 'no_facilitator_for_network',
} as const);

/** Prometheus labels for every reason a request can end with: ours as they are, others bounded. */
export const REASON_LABELS = createReasonLabels([
  ...Object.values(REASON),
  ...Object.values(GATEWAY_REASON),
]);
