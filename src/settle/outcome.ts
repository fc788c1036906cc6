/**
 * What a settlement attempt means for the money. Only `success` serves the body; only `declined`
 * proves nothing moved; everything else is `unknown` and keeps the claim: a timeout, a 5xx, an
 * unparseable body, a reason that is not a listed pre-broadcast refusal (declines.ts), or a failure
 * that carries a transaction hash all mean "the money may have moved".
 */
import type { FacilitatorResult } from '../verify/index.js';
import type { SettleResponse } from '../x402/index.js';
import { PRE_BROADCAST_REFUSALS } from './declines.js';

export const SETTLEMENT_PENDING = 'settlement_pending';

export type SettleOutcome =
  | { readonly kind: 'success'; readonly response: SettleResponse }
  | { readonly kind: 'declined'; readonly reason: string; readonly response: SettleResponse }
  /**
   * The chain proves the transfer did not happen and cannot any more (a resumed settlement only):
   * nothing is served, and the payment is spent.
   */
  | { readonly kind: 'failed'; readonly detail: string; readonly response: SettleResponse }
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
    return unknown(undefined, result.detail, false);
  }
  const response = result.value;
  const transaction = response.transaction === '' ? undefined : response.transaction;
  if (response.success) {
    // success without a tx hash is not evidence of payment.
    return transaction !== undefined
      ? { kind: 'success', response }
      : unknown(undefined, 'success without a transaction', false);
  }
  const reason = response.errorReason ?? 'unexpected_settle_error';
  // Pending is non-terminal (CDP answers it with HTTP 500, #1062): worth one identical retry.
  if (reason === SETTLEMENT_PENDING) return unknown(transaction, reason, true);
  if (result.status >= 500) return unknown(transaction, `HTTP ${result.status}: ${reason}`, false);
  if (transaction !== undefined)
    return unknown(transaction, `failed with a transaction: ${reason}`, false);
  if (!PRE_BROADCAST_REFUSALS.has(reason))
    return unknown(undefined, `not a pre-broadcast refusal: ${reason}`, false);
  return { kind: 'declined', reason, response };
}

function unknown(
  transaction: string | undefined,
  detail: string,
  saidPending: boolean,
): SettleOutcome {
  return { kind: 'unknown', reason: SETTLEMENT_PENDING, transaction, detail, saidPending };
}

/**
 * A retry of a settlement whose first broadcast is unknown must never answer with a fresh 402 (that
 * would invite a second payment), and a refusal is no proof that we were paid either: "nonce already
 * used" is what the facilitator says when the earlier broadcast landed, but also when the payer
 * spent the nonce elsewhere (a cancelAuthorization, or a second authorization to someone else) and
 * our transaction reverted. So a refusal of a resumed settlement stays `unknown` (503
 * settlement_pending, claim kept) until the chain is read; a success is accepted as it is.
 */
export function reconcileResumed(
  outcome: SettleOutcome,
  priorTransaction: string | undefined,
): SettleOutcome {
  if (outcome.kind === 'declined') {
    return unknown(priorTransaction, `retry refused: ${outcome.reason}`, false);
  }
  // Still unknown: keep naming the hash the first attempt gave, if this one gave none.
  if (
    outcome.kind === 'unknown' &&
    outcome.transaction === undefined &&
    priorTransaction !== undefined
  ) {
    return { ...outcome, transaction: priorTransaction };
  }
  return outcome;
}

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

/**
 * A facilitator's success is accepted only when it is sane for this payment: a transaction hash, the
 * offer's network (in either wire form), and, when it names one, our payer. Anything else may be a
 * confused or hostile facilitator: `unknown`, never served on its word.
 */
export function checkSuccess(
  outcome: SettleOutcome,
  offer: { readonly network: { readonly caip2: string; readonly v1Name: string } },
  payer: string,
): SettleOutcome {
  if (outcome.kind !== 'success') return outcome;
  const r = outcome.response;
  const problem = !TX_HASH.test(r.transaction)
    ? 'not a transaction hash'
    : r.network !== offer.network.caip2 && r.network !== offer.network.v1Name
      ? `network ${r.network}`
      : r.payer !== undefined && r.payer !== '' && r.payer.toLowerCase() !== payer.toLowerCase()
        ? `payer ${r.payer}`
        : undefined;
  if (problem === undefined) return outcome;
  return unknown(
    TX_HASH.test(r.transaction) ? r.transaction : undefined,
    `success with ${problem}`,
    false,
  );
}
