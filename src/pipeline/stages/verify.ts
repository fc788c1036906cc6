/**
 * Stages 7–8: claim the authorization atomically, then verify it (cache first, facilitator on a miss).
 * Every refusal after the claim releases it: the same signature stays usable.
 */
import type { RequestContext } from '../context.js';
import type { Deps } from '../deps.js';
import type { Stage, StageResult } from '../stage.js';
import { classifyVerdict, type ClaimOutcome } from '../../verify/index.js';
import { holdUntilSec, Payment } from '../../payment/index.js';
import { facilitatorRequest } from '../facilitator-request.js';
import { checkClient, refuseLocally } from '../local-signature.js';
import { settlementRecord } from '../settlement-record.js';
import {
  challengeReply,
  errorReply,
  ledgerUnavailableReply,
  noFacilitatorReply,
  replayStoreUnavailableReply,
} from '../replies.js';
import { answerFromRecord, busyReply } from './recall.js';
import { REASON } from '../../x402/index.js';
import { countPayerRefusal } from '../rate-limited.js';

/** Stage 7: one request per authorization at a time; settled ones never again. */
export const claim: Stage = {
  name: 'claim',
  paidOnly: true,
  run(ctx, deps) {
    // A redemption takes no claim: the book counts it, atomically (settle.ts).
    if (ctx.recalled?.mode === 'redeem') return undefined;
    // Fail closed before the upstream runs: a payment the book cannot record is never settled.
    if (deps.ledger !== undefined && !deps.ledger.writable) return ledgerUnavailableReply(ctx);
    const holdUntil = holdUntilSec(ctx.auth!.validBefore, deps.nowSec());
    const expiresAtMs = (holdUntil + deps.config.replay.marginSeconds) * 1000;
    const outcome = deps.replay.claim(ctx.replayKey, ctx.digestOf, expiresAtMs);
    // An in-memory guard answers at once: no promise, no microtask on every paid request.
    return outcome instanceof Promise
      ? outcome.then((answered) => afterClaim(ctx, deps, answered, holdUntil))
      : afterClaim(ctx, deps, outcome, holdUntil);
  },
};

function afterClaim(
  ctx: RequestContext,
  deps: Deps,
  outcome: ClaimOutcome,
  holdUntilSec: number,
): StageResult | Promise<StageResult> {
  switch (outcome.kind) {
    case 'claimed':
    case 'resumed': {
      // A recalled settlement is a resumed one, whatever this process's guard remembers.
      const recorded = ctx.recalled?.record;
      ctx.payment = new Payment(deps, {
        key: ctx.replayKey,
        digestOf: ctx.digestOf,
        holdUntilSec,
        resumed: outcome.kind === 'resumed' || recorded !== undefined,
        priorTransaction:
          (outcome.kind === 'resumed' ? outcome.transaction : undefined) ?? recorded?.transaction,
        recordOf: deps.ledger === undefined ? undefined : () => settlementRecord(ctx, deps),
      });
      return undefined;
    }
    case 'used':
      if (ctx.recalled !== undefined) {
        // Another request is settling this very payment: one attempt in flight, never a 402.
        ctx.outcome = 'settlement_pending';
        ctx.reason = REASON.settlementPending;
        return errorReply(503, REASON.settlementPending, 'settlement in progress: retry shortly', {
          'retry-after': '2',
        });
      }
      // Settled, and nobody in the fleet serves it: the book may owe this retry its response.
      if (outcome.spent === true && deps.ledger !== undefined) return recallFromBook(ctx, deps);
      return alreadyUsed(ctx, deps);
    case 'unavailable':
      return replayStoreUnavailableReply(ctx);
  }
}

function alreadyUsed(ctx: RequestContext, deps: Deps): StageResult {
  ctx.outcome = 'replay';
  ctx.reason = REASON.paymentAlreadyUsed;
  return challengeReply(ctx, deps, REASON.paymentAlreadyUsed);
}

/**
 * A shared store says this payment settled and nobody serves it, but this instance's recall index
 * does not know it (another instance settled it, or its reconciler did): ask the shared book, as
 * the recall stage would have. A settled, undelivered record is redeemed; anything else is used.
 */
async function recallFromBook(ctx: RequestContext, deps: Deps): Promise<StageResult> {
  const answered = await answerFromRecord(ctx, deps, ctx.replayKey, ctx.auth!.nonce);
  if (answered !== undefined || ctx.recalled?.mode === 'redeem') return answered;
  // The book has not caught up with the store (a settlement being written): one in flight.
  if (ctx.recalled !== undefined) return busyReply(ctx);
  return alreadyUsed(ctx, deps);
}

/** Stage 8: cached outcome, else POST /verify with its deadline. Fail closed when it cannot answer. */
export const verify: Stage = {
  name: 'verify',
  paidOnly: true,
  async run(ctx, deps) {
    // A resumed claim skips verify: its authorization may already be on-chain, which verify would
    // report as "nonce used". Settlement itself is the check.
    if (ctx.recalled?.mode === 'redeem') return undefined;
    const payment = ctx.payment!;
    if (payment.facts.resumed) return undefined;
    const { metrics } = deps;
    const cached = deps.verifyCache.get(ctx.replayKey, ctx.digestOf);
    let result = cached;
    if (cached !== undefined) {
      metrics.verifyCache.labels(cached.isValid ? 'hit' : 'negative_hit').inc();
      if (cached.isValid) {
        // Out of the cache while this request holds the claim: a release puts it back, a
        // settlement spends it. (A negative entry stays, with its own TTL.)
        deps.verifyCache.delete(ctx.replayKey);
        payment.recordVerdict(cached);
      }
    } else {
      metrics.verifyCache.labels('miss').inc();
      // While forgeries are likely, one that the chain proves forged costs no facilitator call.
      const forged = await refuseLocally(ctx, deps);
      if (forged !== undefined) {
        payment.recordVerdict(forged);
        await payment.release();
        ctx.outcome = 'rejected';
        ctx.reason = forged.invalidReason!;
        return challengeReply(ctx, deps, ctx.reason);
      }
      const started = performance.now();
      const version = ctx.payload!.x402Version;
      const offerNetwork = ctx.offer!.network;
      const routed = await deps.facilitators.verify(
        facilitatorRequest(ctx, deps),
        version,
        version === 1 ? offerNetwork.v1Name : offerNetwork.caip2,
      );
      const answer = routed.result;
      ctx.verifyMs = performance.now() - started;
      if (routed.unsupported === true) {
        // No facilitator lists this network: nobody was asked, and nobody could take the money.
        await payment.release();
        deps.log.warn(
          { reqId: ctx.id, network: offerNetwork.caip2, x402Version: version },
          'no facilitator lists this network',
        );
        return noFacilitatorReply(ctx, offerNetwork.caip2);
      }
      metrics.facilitatorDuration.labels('verify').observe(ctx.verifyMs / 1000);
      metrics.facilitatorRequests
        .labels('verify', answer.kind === 'ok' ? 'ok' : answer.failure)
        .inc();
      if (answer.kind === 'unavailable') {
        metrics.facilitatorUp.set(0);
        await payment.release();
        ctx.outcome = 'facilitator_unavailable';
        ctx.reason = REASON.facilitatorUnavailable;
        deps.log.warn(
          {
            reqId: ctx.id,
            facilitator: routed.by?.label,
            failure: answer.failure,
            detail: answer.detail,
          },
          'verify failed',
        );
        return errorReply(503, REASON.facilitatorUnavailable, 'payment facilitator unavailable', {
          'retry-after': '2',
        });
      }
      ctx.verifiedBy = routed.by;
      const verdicts = routed.by!.options.verdicts;
      metrics.facilitatorUp.set(1);
      result = answer.value;
      const whose = classifyVerdict(result);
      const network = ctx.offer!.network.caip2;
      if (whose === 'facilitator') {
        // Not the payer's fault (a network it no longer lists, our requirements): not a verdict on
        // this payment, so never cached; 503, and the same payment pays once it recovers.
        verdicts.refused(network, result.invalidReason!);
        await payment.release();
        ctx.outcome = 'facilitator_unavailable';
        ctx.reason = REASON.facilitatorUnavailable;
        deps.log.warn(
          { reqId: ctx.id, network, invalidReason: result.invalidReason },
          "facilitator refused a payment for a reason that is not the payer's",
        );
        return errorReply(503, REASON.facilitatorUnavailable, 'payment facilitator unavailable', {
          'retry-after': '5',
        });
      }
      if (whose !== 'other') verdicts.accepted(network);
      deps.signatureCheck?.record(checkClient(ctx), result.isValid);
      // Cached when the payment is released (below, or after an upstream failure): a payment that
      // settles is refused by the replay guard before the cache is read, so caching it is waste.
      // A refusal is cached only when the payer caused it (verify/verdicts.ts).
      if (whose !== 'other') payment.recordVerdict(result);
      if (whose === 'payer') countPayerRefusal(ctx, deps, result);
    }
    if (result!.isValid) {
      metrics.verified.labels(cached === undefined ? 'facilitator' : 'cache').inc();
      return undefined;
    }
    await payment.release();
    ctx.outcome = 'rejected';
    ctx.reason = result!.invalidReason ?? REASON.verificationFailed;
    return challengeReply(ctx, deps, ctx.reason);
  },
};
