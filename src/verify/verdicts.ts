/**
 * Whose fault a facilitator's `isValid: false` is. Only a refusal the payer caused (its signature,
 * funds, amount, recipient, validity window, nonce, payload) is a verdict on the payment: 402, and
 * cached so the same payload is refused without a call. A refusal that says the facilitator cannot
 * serve our configuration (a network or scheme it no longer lists, requirements or a token it
 * rejects, its own internal error) is not the payer's: 503, never cached, and reported in the
 * readiness' paid section (readiness.ts), so the same payment pays once the facilitator recovers.
 * Any other reason is passed to the client (402) but not cached either.
 *
 * Precheck (x402/precheck.ts) has already matched the payload's scheme, network, asset, recipient
 * and amount to our offer, so a facilitator naming the network or scheme speaks of itself, not of
 * the payer. Names as the spec, the reference facilitator and CDP spell them (docs/protocol.md §7.5).
 * The settle side's list of refusals is settle/declines.ts.
 */
import { PAYMENT_REFUSALS, type VerifyResponse } from '../x402/index.js';

/** Refusals caused by the payment itself: cached, answered 402. */
export const PAYER_CAUSED_REFUSALS: ReadonlySet<string> = new Set([
  // payload
  'invalid_payload',
  'invalid_payment',
  'invalid_x402_version',
  'unsupported_payload_type',
  ...PAYMENT_REFUSALS,
  'invalid_exact_evm_payload_undeployed_smart_wallet',
  'invalid_exact_evm_payload_typed_data_message',
  // validity window and nonce
  'payment_expired',
  'invalid_exact_evm_nonce_already_used',
  'duplicate_settlement',
  // the payer's screening
  'invalid_exact_evm_payload_from_address_kyt',
]);

/**
 * Refusals that are the facilitator's or our configuration's, not the payer's: 503, not cached,
 * reported as a paid-side readiness problem.
 */
export const FACILITATOR_SIDE_REFUSALS: ReadonlySet<string> = new Set([
  // a network or scheme it does not (or no longer) settle
  'invalid_network',
  'invalid_scheme',
  'unsupported_scheme',
  'invalid_exact_evm_scheme',
  'invalid_exact_evm_network_mismatch',
  // our requirements or token, as it reads them
  'invalid_payment_requirements',
  'invalid_exact_evm_missing_eip712_domain',
  'invalid_exact_evm_token_name_mismatch',
  'invalid_exact_evm_token_version_mismatch',
  'invalid_exact_evm_eip3009_not_supported',
  'asset_not_deployed_contract',
  'invalid_exact_evm_payload_to_address_kyt',
  // its own failure
  'unexpected_verify_error',
]);

export type VerdictClass = 'valid' | 'payer' | 'facilitator' | 'other';

export function classifyVerdict(verdict: VerifyResponse): VerdictClass {
  if (verdict.isValid) return 'valid';
  const reason = verdict.invalidReason;
  if (reason === undefined) return 'other';
  if (PAYER_CAUSED_REFUSALS.has(reason)) return 'payer';
  if (FACILITATOR_SIDE_REFUSALS.has(reason)) return 'facilitator';
  return 'other';
}
