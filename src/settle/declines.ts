/**
 * The refusals that prove a settlement moved no money: a facilitator says them only after checking
 * the payment and before broadcasting anything (bad signature, not enough funds, wrong value or
 * recipient, outside its validity window, a scheme or network it does not settle). Only these make
 * a settlement `declined`; any other failure (a reason not listed here, "nonce already used", a
 * failed or reverted transaction, a free-text message) may come after a broadcast, so it is
 * `unknown` and the claim is kept. Names as the spec, the reference facilitator and CDP spell them
 * (docs/protocol.md §7.5).
 */
export const PRE_BROADCAST_REFUSALS: ReadonlySet<string> = new Set([
  // signature
  'invalid_exact_evm_payload_signature',
  'invalid_exact_evm_signature',
  'invalid_exact_evm_failed_to_parse_signature',
  'invalid_exact_evm_payload_signature_address',
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
  // validity window
  'invalid_exact_evm_payload_authorization_valid_before',
  'invalid_exact_evm_payload_authorization_valid_after',
  // scheme or network
  'unsupported_scheme',
  'invalid_scheme',
  'invalid_network',
  'invalid_exact_evm_scheme',
  'invalid_exact_evm_network_mismatch',
]);
