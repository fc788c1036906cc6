/**
 * Reason labels for Prometheus: the reasons the gateway and facilitators send, kept apart, and
 * anything else folded into `other`, so a peer cannot grow the label set.
 */
/** The label of every reason outside the known set. */
export const OTHER_REASON = 'other';

/**
 * Reasons other facilitators and SDKs send (docs/protocol.md §7.5): the spec list, the legacy v1
 * enum, the TS reference facilitator, CDP additions and @x402/core hooks. Listed so that metrics
 * keep them apart; anything not here is folded into `other`.
 */
const FACILITATOR_REASONS: readonly string[] = [
  // the specs' list, v1 and v2 (docs/protocol.md §7.5)
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

export interface ReasonLabels {
  /**
   * Any string (ours or a facilitator's) → a bounded label: the string itself when it is a known
   * reason, else `other`. Keeps label cardinality fixed whatever a peer sends.
   */
  label(reason: string): string;
  /** Every label `label` can return (for pre-registering series). */
  all(): readonly string[];
}

/** The labeller for `ours` (the gateway's own reasons) plus every facilitator reason listed above. */
export function createReasonLabels(ours: Iterable<string>): ReasonLabels {
  const known: ReadonlySet<string> = new Set<string>([...ours, ...FACILITATOR_REASONS]);
  return {
    label: (reason) => (known.has(reason) ? reason : OTHER_REASON),
    all: () => [...known, OTHER_REASON],
  };
}
