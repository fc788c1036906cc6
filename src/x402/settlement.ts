/**
 * The settlement receipt header (docs/protocol.md §3.3, §4.4).
 */
import { encodeHeaderJson } from './codec.js';
import { PAYMENT_RESPONSE, X_PAYMENT_RESPONSE } from './headers.js';
import { REASON } from './reasons.js';
import type { Offer, SettleResponse, X402Version } from './types.js';

export interface SettlementHeader {
  /** `x-payment-response` for v1 payloads, `payment-response` for v2. */
  readonly name: string;
  /** base64 JSON `{success, errorReason?, transaction, network, payer}`. */
  readonly value: string;
}

/**
 * Encode the facilitator's settle answer as the response header of the payload's version.
 * `network` is always the offer's network in that version's form (v1 name or CAIP-2), whatever
 * the facilitator wrote. A failure always carries an `errorReason` (`settlement_failed` when the
 * facilitator gave none). `errorMessage` is never sent to clients.
 */
export function encodeSettlementHeader(
  version: X402Version,
  res: SettleResponse,
  offer: Offer,
): SettlementHeader {
  const network = version === 1 ? offer.network.v1Name : offer.network.caip2;
  const body = res.success
    ? { success: true, transaction: res.transaction, network, payer: res.payer }
    : {
        success: false,
        errorReason: res.errorReason ?? REASON.settlementFailed,
        transaction: res.transaction,
        network,
        payer: res.payer,
      };
  return {
    name: version === 1 ? X_PAYMENT_RESPONSE : PAYMENT_RESPONSE,
    value: encodeHeaderJson(body),
  };
}
