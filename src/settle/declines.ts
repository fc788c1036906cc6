/**
 * The refusals that prove a settlement moved no money: a facilitator says them only after checking
 * the payment and before broadcasting anything (bad signature, not enough funds, wrong value or
 * recipient, outside its validity window, a scheme or network it does not settle). Only these make
 * a settlement `declined`; any other failure (a reason not listed here, "nonce already used", a
 * failed or reverted transaction, a free-text message) may come after a broadcast, so it is
 * `unknown` and the claim is kept. Names as the spec, the reference facilitator and CDP spell them
 * (docs/protocol.md §7.5).
 */
import { PAYMENT_REFUSALS } from '../x402/index.js';

export const PRE_BROADCAST_REFUSALS: ReadonlySet<string> = new Set([
  ...PAYMENT_REFUSALS,
  // scheme or network
  'unsupported_scheme',
  'invalid_scheme',
  'invalid_network',
  'invalid_exact_evm_scheme',
  'invalid_exact_evm_network_mismatch',
]);
