/**
 * Local checks of a selected payment, with no I/O (docs/protocol.md §8.2, §10): what the
 * facilitator would refuse anyway, refused here for free. Reasons are the spec's codes so a client
 * sees the same string whichever side refused. The signature is NOT checked here.
 */
import type { Address, Hex } from 'viem';
import { REASON } from './reasons.js';
import { isBytes32, isHexAddress, isUintString } from './hex.js';
import type { Offer, PaymentPayload } from './types.js';

export type PrecheckReason =
  | typeof REASON.invalidPaymentHeader
  | typeof REASON.invalidScheme
  | typeof REASON.invalidNetwork
  | typeof REASON.assetMismatch
  | typeof REASON.recipientMismatch
  | typeof REASON.authorizationValue
  | typeof REASON.authorizationValidAfter
  | typeof REASON.authorizationValidBefore;

export type PrecheckResult =
  | {
      readonly ok: true;
      /** authorization.from as sent (the payer). */
      readonly from: Address;
      /** authorization.value; equal to the offer's amount. */
      readonly value: bigint;
      /**
       * authorization.validBefore, unix seconds: at most the offer's maxTimeoutSeconds plus
       * {@link CLOCK_SKEW_SECONDS} ahead of `nowSec`.
       */
      readonly validBefore: number;
      readonly nonce: Hex;
    }
  | { readonly ok: false; readonly reason: PrecheckReason };

/**
 * How far a client's clock may run ahead of ours. A validBefore later than now + the offer's
 * maxTimeoutSeconds + this is refused: a client SDK signs now + maxTimeoutSeconds, and every record
 * of a payment (replay claim, verify cache, ledger hold) lives until its validBefore, so an
 * authorization valid for years would hold a replay-store slot for years (issue 13).
 */
export const CLOCK_SKEW_SECONDS = 30;

function fail(reason: PrecheckReason): PrecheckResult {
  return { ok: false, reason };
}

/**
 * @param payload a payload from `decodePaymentHeader` that `selectOffer` matched to `offer`
 * @param nowSec current unix time, seconds
 * @param minRemainingSec time that must remain before validBefore: the caller passes
 *   upstream timeout + settle timeout + 6 s (the facilitator's block-time buffer)
 */
export function precheck(
  payload: PaymentPayload,
  offer: Offer,
  nowSec: number,
  minRemainingSec: number,
): PrecheckResult {
  if (payload.x402Version === 1) {
    if (payload.scheme !== 'exact') return fail(REASON.invalidScheme);
    if (payload.network !== offer.network.v1Name) return fail(REASON.invalidNetwork);
  } else {
    const accepted = payload.accepted;
    if (accepted.scheme !== 'exact') return fail(REASON.invalidScheme);
    if (accepted.network !== offer.network.caip2) return fail(REASON.invalidNetwork);
    if (
      typeof accepted.asset !== 'string' ||
      accepted.asset.toLowerCase() !== offer.asset.address.toLowerCase()
    ) {
      return fail(REASON.assetMismatch);
    }
  }

  const auth = payload.payload.authorization;
  const { from, nonce } = auth;
  // The schema guarantees these formats; re-testing (a few regexes) keeps precheck safe for any
  // caller and gives the typed Address / Hex without a cast.
  if (
    !isHexAddress(from) ||
    !isBytes32(nonce) ||
    !isUintString(auth.value) ||
    !isUintString(auth.validAfter) ||
    !isUintString(auth.validBefore)
  ) {
    return fail(REASON.invalidPaymentHeader);
  }

  if (auth.to.toLowerCase() !== offer.payTo.toLowerCase()) return fail(REASON.recipientMismatch);

  // Exact equality, as the v2 spec and the current facilitator require (docs/protocol.md §8.2):
  // more is refused too.
  const value = BigInt(auth.value);
  if (value !== offer.amount) return fail(REASON.authorizationValue);

  // ≤ 78 digits: Number() is finite; precision loss only affects values far beyond any clock.
  if (Number(auth.validAfter) > nowSec) return fail(REASON.authorizationValidAfter);
  const validBefore = Number(auth.validBefore);
  if (validBefore - nowSec < minRemainingSec) return fail(REASON.authorizationValidBefore);
  // Too far ahead: no record may outlive the offer's own window by more than the clock skew.
  if (validBefore - nowSec > offer.maxTimeoutSeconds + CLOCK_SKEW_SECONDS) {
    return fail(REASON.authorizationValidBefore);
  }

  return { ok: true, from, value, validBefore, nonce };
}
