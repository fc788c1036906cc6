/**
 * Settle: when a payment is settled, and what a facilitator's settle answer means for the money.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { checkSuccess, classifySettlement, type SettleOutcome } from './outcome.js';
export { shouldSettle } from './policy.js';
export { resolveResumed, type ResumedPayment } from './resumed.js';
