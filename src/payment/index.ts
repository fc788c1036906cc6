/**
 * Payment: one owner of a payment's life in a request, from its claim to its end (no HTTP objects).
 * The settlement rules it applies are in src/settle/ (same part).
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export {
  ClaimLostError,
  IllegalTransitionError,
  Payment,
  type PaymentFacts,
  type PaymentState,
  type PaymentStores,
  type SettlingOutcome,
} from './payment.js';
export { recall, type Recalled, recordFacts, type SettlementFacts } from './record-facts.js';
export { RecallIndex } from './recall-index.js';
export { RecordsInUse } from './in-use.js';
export { type Credit, CreditIndex, type CreditSource, type CreditTerms } from './credits.js';
export {
  NOTHING_RECONCILED,
  type PassSummary,
  RECONCILE_OUTCOMES,
  type ReconcileOutcome,
  Reconciler,
  type ReconcilerOptions,
} from './reconcile.js';
export { restoreFromLedger } from './restore.js';
export { holdUntilSec, MAX_HOLD_SECONDS } from './hold.js';
