/**
 * A resumed settlement (its first attempt's outcome was unknown) that the facilitator again does
 * not confirm: a refusal proves nothing either way ("nonce already used" is also what the payer's
 * own cancelAuthorization produces), and another unknown proves nothing either, so the chain
 * decides. Our Transfer landed → success, served once; the chain proves it cannot happen → failed;
 * anything else, or no RPC for the network → still unknown (503 settlement_pending, claim kept).
 * Never a fresh 402 that would invite a second payment.
 */
import type { ChainReader, TransferQuery } from '../chains/index.js';
import { reconcileResumed, type SettleOutcome } from './outcome.js';

export interface ResumedPayment {
  /** The transfer the authorization promised (its `transaction`: the hash the first attempt gave). */
  readonly query: TransferQuery;
  /** CAIP-2 network of the offer. */
  readonly network: string;
  readonly payer: string | undefined;
}

export async function resolveResumed(
  outcome: SettleOutcome,
  payment: ResumedPayment,
  chain: ChainReader | undefined,
): Promise<SettleOutcome> {
  if (outcome.kind === 'success' || outcome.kind === 'failed') return outcome;
  const prior = payment.query.transaction;
  const still = reconcileResumed(outcome, prior);
  if (chain === undefined) return still;
  const verdict = await chain.checkTransfer(payment.query);
  switch (verdict.kind) {
    case 'landed':
      return {
        kind: 'success',
        response: {
          success: true,
          transaction: verdict.transaction,
          network: payment.network,
          ...(payment.payer === undefined ? {} : { payer: payment.payer }),
        },
      };
    case 'failed':
      return {
        kind: 'failed',
        detail: verdict.detail,
        response: {
          success: false,
          errorReason: 'settlement_failed',
          transaction: '',
          network: payment.network,
          ...(payment.payer === undefined ? {} : { payer: payment.payer }),
        },
      };
    default:
      return still.kind === 'unknown'
        ? { ...still, detail: `${still.detail}; chain: ${verdict.detail}` }
        : still;
  }
}
