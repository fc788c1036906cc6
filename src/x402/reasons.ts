/**
 * Wire-stable payment reason strings: what the gateway puts in `error` / `reason` / `errorReason`
 * and in logs when it refuses or cannot settle a payment. snake_case, never built inline elsewhere
 * (ARCHITECTURE.md, "Errors and reasons"). The gateway's own HTTP refusals (overloaded, upstream
 * errors, bad paths) are in pipeline/reasons.ts; metric labels for these and for facilitators'
 * reasons are built by metrics/reason-labels.ts. Where the x402 spec (docs/protocol.md §7.5) has a
 * code for the same check we use that code, so a client sees the same string whether our precheck
 * or the facilitator refused the payment.
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
  /**
   * validBefore passed, leaves too little time to forward and settle, or lies further ahead than
   * the offer's maxTimeoutSeconds plus clock skew (spec code).
   */
  authorizationValidBefore: 'invalid_exact_evm_payload_authorization_valid_before',
  /** v2 `accepted.asset` is not the offer's token. No spec code exists for this check. */
  assetMismatch: 'asset_mismatch',
  /** The authorization (chainId, asset, from, nonce) is in flight or already settled here. */
  paymentAlreadyUsed: 'payment_already_used',
  /** The replay store is full or unreachable: refuse (fail closed). */
  replayStoreUnavailable: 'replay_store_unavailable',
  /** The book of record cannot write: nothing is settled without a record (fail closed). */
  ledgerUnavailable: 'ledger_unavailable',
  /**
   * The signature is not `from`'s: refused by the local signature check (a 65-byte signature that
   * does not recover to `from`, which has no code), with the spec's code, as a facilitator would.
   */
  invalidSignature: 'invalid_exact_evm_payload_signature',
  /** Facilitator said `isValid:false` without giving a reason. */
  verificationFailed: 'verification_failed',
  /** Facilitator down, slow, or answered garbage: 503, never a free pass. */
  facilitatorUnavailable: 'facilitator_unavailable',
  /** Settlement broadcast but unconfirmed (same string as CDP / @x402/evm). */
  settlementPending: 'settlement_pending',
  /** Facilitator declined to settle without giving a reason. */
  settlementFailed: 'settlement_failed',
} as const);

export type Reason = (typeof REASON)[keyof typeof REASON];

/**
 * Refusals a facilitator makes of the payment itself, before anything is broadcast: its signature,
 * funds, value, recipient, validity window. The verify side caches them as the payer's fault
 * (verify/verdicts.ts); the settle side reads them as proof that nothing moved (settle/declines.ts).
 * Names as the spec, the reference facilitator and CDP spell them (docs/protocol.md §7.5).
 */
export const PAYMENT_REFUSALS: readonly string[] = Object.freeze([
  // signature
  'invalid_exact_evm_payload_signature',
  'invalid_exact_evm_signature',
  'invalid_exact_evm_failed_to_parse_signature',
  'invalid_exact_evm_payload_signature_address',
  ...payerKeyRefusals(),
  // validity window
  'invalid_exact_evm_payload_authorization_valid_before',
  'invalid_exact_evm_payload_authorization_valid_after',
]);

/**
 * The refusals among PAYMENT_REFUSALS that only the payer's key can cause, whoever sends the
 * payment: it signed one that cannot pay (funds, value, recipient). Not the signature's form, nor
 * the validity window (anyone holding a copy of the signature can send it late). The rate limits
 * count these against the payer (pipeline/rate-limited.ts).
 */
export const PAYER_KEY_REFUSALS: ReadonlySet<string> = new Set(payerKeyRefusals());

function payerKeyRefusals(): string[] {
  return [
    // funds
    'insufficient_funds',
    'invalid_exact_evm_insufficient_balance',
    // value
    'invalid_exact_evm_payload_authorization_value',
    'invalid_exact_evm_payload_authorization_value_mismatch',
    'invalid_exact_evm_payload_authorization_value_too_low',
    'invalid_exact_evm_authorization_value',
    // recipient
    'invalid_exact_evm_payload_recipient_mismatch',
    'invalid_exact_evm_recipient_mismatch',
  ];
}
