/**
 * Stages 3–6: read the payment header, decode it against the schema, pick the offer it pays, and
 * run the local checks. No I/O happens here: anything rejected costs the facilitator nothing.
 */
import type { Stage } from '../stage.js';
import { challengeReply, errorReply, noFacilitatorReply, upstreamDownReply } from '../replies.js';
import {
  decodePaymentHeader,
  HEADER,
  precheck as localCheck,
  REASON,
  selectOffer,
} from '../../x402/index.js';
import { replayKey } from '../../verify/index.js';
import { challengeLimit, clientFailureLimit, payerFailureLimit } from '../rate-limited.js';

/** Stage 3: PAYMENT-SIGNATURE wins over X-PAYMENT; neither → the 402 challenge. */
export const extract: Stage = {
  name: 'extract',
  paidOnly: true,
  run(ctx, deps) {
    const headers = ctx.req.headers;
    const value = headers[HEADER.paymentSignature] ?? headers[HEADER.xPayment];
    if (typeof value !== 'string' || value === '') {
      // Its upstream is down: no 402 (a payment would buy nothing).
      if (ctx.target!.upstream.health.down) return upstreamDownReply(ctx);
      // No facilitator takes payments on any of its networks: no 402 either.
      const offers = ctx.route!.offers;
      if (!deps.facilitators.servesAny(offers)) {
        return noFacilitatorReply(ctx, offers[0]?.network.caip2 ?? '');
      }
      // Only a request without a payment takes a challenge token: a paid one never meets this.
      const limited = challengeLimit(ctx, deps);
      if (limited !== undefined) return limited;
      ctx.outcome = 'challenge';
      return challengeReply(ctx, deps, undefined);
    }
    ctx.headerValue = value;
    return undefined;
  },
};

/** Stage 4: size cap → base64 → JSON → schema. Malformed → 400; unknown version → 402. */
export const decode: Stage = {
  name: 'decode',
  paidOnly: true,
  run(ctx, deps) {
    const decoded = decodePaymentHeader(
      ctx.headerValue ?? '',
      deps.config.server.limits.maxPaymentHeaderBytes,
    );
    if (!decoded.ok) {
      ctx.reason = decoded.reason;
      if (decoded.reason === REASON.invalidX402Version) {
        if (ctx.target!.upstream.health.down) return upstreamDownReply(ctx);
        ctx.outcome = 'rejected';
        return challengeReply(ctx, deps, decoded.reason);
      }
      ctx.outcome = 'bad_request';
      return errorReply(
        400,
        REASON.invalidPaymentHeader,
        'payment header is not a valid x402 payload',
      );
    }
    ctx.payload = decoded.payload;
    ctx.rawPayload = decoded.raw;
    return undefined;
  },
};

/**
 * Stage 5b, after `recall`: while the route's upstream is down, a new payment is neither verified
 * nor claimed (503 upstream_down); a retry the ledger holds was answered or taken up by `recall`.
 */
export const available: Stage = {
  name: 'available',
  paidOnly: true,
  run(ctx) {
    if (ctx.recalled === undefined && ctx.target!.upstream.health.down) {
      return upstreamDownReply(ctx);
    }
    return undefined;
  },
};

/** Stage 5: the payload must pay one of this route's offers. */
export const select: Stage = {
  name: 'select',
  paidOnly: true,
  run(ctx, deps) {
    if (ctx.recalled !== undefined) return undefined; // held to its record's offer (recall.ts)
    // A client over its failed payments is refused before anything of its payment is checked.
    const limited = clientFailureLimit(ctx, deps);
    if (limited !== undefined) return limited;
    const offer = selectOffer(ctx.payload!, ctx.route!.offers);
    if (offer === undefined) {
      ctx.outcome = 'rejected';
      ctx.reason = REASON.noMatchingRequirements;
      return challengeReply(ctx, deps, REASON.noMatchingRequirements);
    }
    ctx.offer = offer;
    return undefined;
  },
};

/** Stage 6: recipient, exact amount, asset, network, time window — before any I/O. */
export const precheck: Stage = {
  name: 'precheck',
  paidOnly: true,
  run(ctx, deps) {
    // A recalled payment was checked when it first arrived; its retry must not meet a fresh 402.
    if (ctx.recalled !== undefined) return undefined;
    const checked = localCheck(
      ctx.payload!,
      ctx.offer!,
      deps.nowSec(),
      ctx.target?.upstream.minRemainingSec ?? deps.minRemainingSec,
    );
    if (!checked.ok) {
      ctx.outcome = 'rejected';
      ctx.reason = checked.reason;
      return challengeReply(ctx, deps, checked.reason);
    }
    ctx.auth = {
      from: checked.from,
      value: checked.value,
      validBefore: checked.validBefore,
      nonce: checked.nonce,
    };
    ctx.payer = checked.from;
    ctx.replayKey = replayKey(ctx.offer!, checked.from, checked.nonce);
    // A payer over the failures its key caused: refused before the claim, no facilitator call.
    return payerFailureLimit(ctx, deps);
  },
};
