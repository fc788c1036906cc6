/**
 * Wire-stable reason strings: what the gateway puts in `error` / `reason` / `errorReason` and in logs.
 * snake_case, never built inline elsewhere (architecture §3 rule 5). Where the x402 spec
 * (../shared/x402-protocol.md "Error codes") has a code for the same check we use that code, so a
 * client sees the same string whether our precheck or the facilitator refused the payment.
 *
 * Changing a value here is a wire change: clients and dashboards match on these strings.
 */
export const REASON = Object.freeze({
  /** No payment header on a priced route (the plain challenge). */
  paymentRequired: 'payment_required',
  /** Header too large, not strict base64, not UTF-8 JSON, or fails the payload schema. */
  invalidPaymentHeader: 'invalid_payment_header',
  /** Well-formed payload whose `x402Version` is a number other than 1 or 2 (spec code). */
  invalidX402Version: 'invalid_x402_version',
  /** v2 `accepted` equals none of our offers, or v1 scheme+network names none of them. */
  noMatchingRequirements: 'no_matching_requirements',
  /** Scheme other than `exact` (spec code). */
  invalidScheme: 'invalid_scheme',
  /** Payload network differs from the offer's (spec code). */
  invalidNetwork: 'invalid_network',
  /** authorization.to != payTo (spec code). */
  recipientMismatch: 'invalid_exact_evm_payload_recipient_mismatch',
  /** authorization.value != price; we require exact equality like the current facilitator (spec code). */
  authorizationValue: 'invalid_exact_evm_payload_authorization_value',
  /** validAfter is in the future (spec code). */
  authorizationValidAfter: 'invalid_exact_evm_payload_authorization_valid_after',
  /** validBefore passed, or leaves too little time to forward and settle (spec code). */
  authorizationValidBefore: 'invalid_exact_evm_payload_authorization_valid_before',
  /** v2 `accepted.asset` is not the offer's token. No spec code exists for this check. */
  assetMismatch: 'asset_mismatch',
  /** The authorization (chainId, asset, from, nonce) is in flight or already settled here. */
  paymentAlreadyUsed: 'payment_already_used',
  /** The replay store is full or unreachable: refuse (fail closed). */
  replayStoreUnavailable: 'replay_store_unavailable',
  /** Facilitator said `isValid:false` without giving a reason. */
  verificationFailed: 'verification_failed',
  /** Facilitator down, slow, or answered garbage: 503, never a free pass. */
  facilitatorUnavailable: 'facilitator_unavailable',
  upstreamUnavailable: 'upstream_unavailable',
  upstreamTimeout: 'upstream_timeout',
  /** Buffer-then-settle route whose upstream body exceeded the buffer cap. */
  upstreamResponseTooLarge: 'upstream_response_too_large',
  /** The client closed the connection before the answer (logged as 499). */
  clientGone: 'client_gone',
  /** Settlement broadcast but unconfirmed (same string as CDP / @x402/evm). */
  settlementPending: 'settlement_pending',
  /** Facilitator declined to settle without giving a reason. */
  settlementFailed: 'settlement_failed',
  overloaded: 'overloaded',
  invalidPath: 'invalid_path',
  notFound: 'not_found',
  payloadTooLarge: 'payload_too_large',
  internalError: 'internal_error',
  /** Request headers over `server.limits.maxHeaderBytes` (431, refused by node's parser). */
  headerTooLarge: 'header_too_large',
  /** The request was not received within `server.limits.requestTimeoutMs` (408). */
  requestTimeout: 'request_timeout',
  /** Not parseable as HTTP/1.1 (400, refused by node's parser). */
  invalidRequest: 'invalid_request',
} as const);

export type Reason = (typeof REASON)[keyof typeof REASON];

/** Label used by {@link metricReason} for every string outside the known set. */
export const OTHER_REASON = 'other';

/**
 * Reasons other facilitators and SDKs send (protocol doc §7 "Error codes"): the spec list, the
 * legacy v1 enum, the TS reference facilitator, CDP additions and @x402/core hooks. Listed so that
 * metrics keep them apart; anything not here is folded into `other`.
 */
const FACILITATOR_REASONS: readonly string[] = [
  // spec §9 (v1 and v2)
  'insufficient_funds',
  'invalid_exact_evm_payload_signature',
  'invalid_exact_evm_payload_authorization_value_mismatch',
  'invalid_payload',
  'invalid_payment_requirements',
  'unsupported_scheme',
  'invalid_transaction_state',
  'unexpected_verify_error',
  'unexpected_settle_error',
  // legacy v1 enum
  'invalid_exact_evm_payload_undeployed_smart_wallet',
  'invalid_payment',
  'payment_expired',
  'duplicate_settlement',
  // TS reference facilitator (@x402/evm exact/facilitator/errors.ts): note `recipient_mismatch`
  // and `authorization_value` appear there without the `payload_` infix used by the spec.
  'invalid_exact_evm_scheme',
  'invalid_exact_evm_network_mismatch',
  'invalid_exact_evm_missing_eip712_domain',
  'invalid_exact_evm_recipient_mismatch',
  'invalid_exact_evm_signature',
  'invalid_exact_evm_authorization_value',
  'invalid_exact_evm_token_name_mismatch',
  'invalid_exact_evm_token_version_mismatch',
  'invalid_exact_evm_eip3009_not_supported',
  'invalid_exact_evm_nonce_already_used',
  'invalid_exact_evm_insufficient_balance',
  'invalid_exact_evm_transaction_simulation_failed',
  'invalid_exact_evm_transaction_failed',
  'invalid_exact_evm_transfer_event_mismatch',
  'invalid_exact_evm_failed_to_parse_signature',
  'asset_not_deployed_contract',
  'eip6492_factory_not_allowed',
  'smart_wallet_deployment_failed',
  'unsupported_payload_type',
  // CDP (cdp-sdk X402SettleErrorReason) additions
  'invalid_exact_evm_payload_authorization_value_too_low',
  'invalid_exact_evm_payload_authorization_typed_data_message',
  'invalid_exact_evm_payload_authorization_from_address_kyt',
  'invalid_exact_evm_payload_authorization_to_address_kyt',
  'invalid_exact_evm_payload_signature_address',
  // @x402/core resource-server hooks
  'before_verify_hook_error',
  'before_settle_hook_error',
];

const KNOWN_REASONS: ReadonlySet<string> = new Set<string>([
  ...Object.values(REASON),
  ...FACILITATOR_REASONS,
]);

/**
 * Map any string (ours or a facilitator's) to a bounded label set for Prometheus: the string itself
 * when it is a known reason, else `other`. Keeps label cardinality fixed whatever a peer sends.
 */
export function metricReason(reason: string): string {
  return KNOWN_REASONS.has(reason) ? reason : OTHER_REASON;
}

/** Every label {@link metricReason} can return (for pre-registering series). */
export function knownMetricReasons(): readonly string[] {
  return [...KNOWN_REASONS, OTHER_REASON];
}
