/**
 * What a settlement attempt means for the money. Only `success` serves the body; only `declined`
 * proves nothing moved; everything else is `unknown` and keeps the claim.
 */
import type { FacilitatorResult } from '../verify/index.js';
import type { SettleResponse } from '../x402/index.js';

export const SETTLEMENT_PENDING = 'settlement_pending';

export type SettleOutcome =
  | { readonly kind: 'success'; readonly response: SettleResponse }
  | { readonly kind: 'declined'; readonly reason: string; readonly response: SettleResponse }
  | {
      readonly kind: 'unknown';
      readonly reason: string;
      readonly transaction: string | undefined;
      readonly detail: string;
      /** The facilitator itself answered `settlement_pending` (worth one identical retry). */
      readonly saidPending: boolean;
    };

export function classifySettlement(result: FacilitatorResult<SettleResponse>): SettleOutcome {
  if (result.kind === 'unavailable') {
    // Timeout, 5xx or garbage: the facilitator may have broadcast the transfer. Never assume not.
    return {
      kind: 'unknown',
      reason: SETTLEMENT_PENDING,
      transaction: undefined,
      detail: result.detail,
      saidPending: false,
    };
  }
  const response = result.value;
  if (response.success && response.transaction !== '') return { kind: 'success', response };
  const reason = response.errorReason ?? 'unexpected_settle_error';
  if (response.success || reason === SETTLEMENT_PENDING) {
    // success without a tx hash is not evidence of payment; pending is non-terminal (CDP, #1062).
    return {
      kind: 'unknown',
      reason: SETTLEMENT_PENDING,
      transaction: response.transaction === '' ? undefined : response.transaction,
      detail: reason,
      saidPending: reason === SETTLEMENT_PENDING,
    };
  }
  return { kind: 'declined', reason, response };
}

/** Reasons meaning "this authorization's nonce is already spent on-chain". */
const NONCE_SPENT = new Set(['invalid_exact_evm_nonce_already_used', 'duplicate_settlement']);

/**
 * A retry of a settlement whose first broadcast is unknown must never answer with a fresh 402 (that
 * would invite a second payment). If the facilitator now says the nonce is spent and we know the
 * earlier tx hash, that broadcast landed: success. Any other refusal stays unknown.
 */
export function reconcileResumed(
  outcome: SettleOutcome,
  priorTransaction: string | undefined,
  network: string,
  payer: string | undefined,
): SettleOutcome {
  if (outcome.kind !== 'declined') return outcome;
  if (NONCE_SPENT.has(outcome.reason) && priorTransaction !== undefined) {
    return {
      kind: 'success',
      response: {
        success: true,
        transaction: priorTransaction,
        network,
        payer: outcome.response.payer ?? payer,
      },
    };
  }
  return {
    kind: 'unknown',
    reason: SETTLEMENT_PENDING,
    transaction: priorTransaction,
    detail: `retry refused: ${outcome.reason}`,
    saidPending: false,
  };
}
