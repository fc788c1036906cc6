/**
 * Payment: one owner of a payment's life in a request, from its claim to its end (no HTTP objects).
 * The settlement rules it applies are in src/settle/ (same part).
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export {
  IllegalTransitionError,
  Payment,
  type PaymentFacts,
  type PaymentState,
  type PaymentStores,
} from './payment.js';
