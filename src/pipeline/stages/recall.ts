/**
 * Stage 5: a retry of a payment the book holds is answered from its record, before any check that
 * could turn it into a "pay again" 402: the record's own offer and request stand in for today's
 * price table and time window. An unknown settlement resumes with the recorded `/settle` body; a
 * settled one that never went out whole is redeemed; a delivered or failed one is refused.
 * Nearly every request misses the index (one map lookup) and goes on.
 */
import type { RequestContext } from '../context.js';
import type { Deps } from '../deps.js';
import type { Reply, Stage, StageResult } from '../stage.js';
import {
  challengeReply,
  errorReply,
  ledgerUnavailableReply,
  replayStoreUnavailableReply,
} from '../replies.js';
import { holdAcrossFleet } from '../fleet-hold.js';
import { recall as fromRecord } from '../../payment/index.js';
import { PAID_STATES, type LedgerRecord } from '../../ledger/index.js';
import { encodeSettlementHeader, REASON } from '../../x402/index.js';

const PAID = new Set<string>(PAID_STATES);

export const recall: Stage = {
  name: 'recall',
  paidOnly: true,
  run(ctx, deps) {
    const nonce = ctx.payload!.payload.authorization.nonce;
    const key = deps.recallIndex.lookup(nonce);
    return key === undefined ? undefined : answerFromRecord(ctx, deps, key, nonce);
  },
};

/**
 * Answer a retry from the book's record under `key`. Undefined: either the record now drives the
 * request (`ctx.recalled` is set: a resume or a redemption), or the book holds nothing for this
 * payload and the normal path goes on.
 */
export async function answerFromRecord(
  ctx: RequestContext,
  deps: Deps,
  key: string,
  nonce: string,
): Promise<StageResult> {
  let record: LedgerRecord | undefined;
  try {
    record = await deps.ledger!.get(key);
  } catch (err) {
    deps.log.error(
      { reqId: ctx.id, err },
      'ledger read failed: a recorded payment cannot be answered',
    );
    return ledgerUnavailableReply(ctx);
  }
  // Not this payload (another signature over the same nonce): the normal path refuses it.
  if (record === undefined || record.digest !== ctx.digestOf()) return undefined;
  const recalled = fromRecord(record);
  if (recalled === undefined) {
    deps.log.error({ reqId: ctx.id, key }, 'a ledger record cannot be read back');
    return undefined;
  }
  ctx.offer = recalled.offer;
  ctx.facilitatorRequest = recalled.request;
  ctx.auth = {
    from: record.payer,
    value: BigInt(record.amount),
    validBefore: record.validBefore,
    nonce: record.nonce,
  };
  ctx.payer = record.payer;
  ctx.replayKey = record.key;
  ctx.transaction = record.transaction;

  if (record.state === 'settling' || record.state === 'unknown') {
    if (!hold(ctx, deps, record.key)) return busyReply(ctx);
    ctx.recalled = { ...recalled, mode: 'settle' };
    return undefined;
  }
  if (PAID.has(record.state)) {
    const verdict = redemption(ctx, deps, record);
    if (verdict === 'redeem') {
      if (!hold(ctx, deps, record.key)) return busyReply(ctx);
      // Another instance may be serving it right now (its own settlement, or a redemption).
      const fleet = await holdAcrossFleet(ctx, deps, record.key, record.validBefore);
      if (fleet !== 'held') {
        deps.recordsInUse.release(record.key);
        ctx.heldRecord = undefined;
        return fleet === 'busy' ? busyReply(ctx) : replayStoreUnavailableReply(ctx);
      }
      ctx.recalled = { ...recalled, mode: 'redeem' };
      return undefined;
    }
    // Spent for good; a retry of another request keeps its chance on the right one.
    if (verdict === 'spent') deps.recallIndex.delete(nonce);
    ctx.outcome = 'replay';
    ctx.reason = REASON.paymentAlreadyUsed;
    return challengeReply(ctx, deps, REASON.paymentAlreadyUsed);
  }
  deps.recallIndex.delete(nonce);
  if (record.state === 'failed') {
    // The first retry to meet a failure decided elsewhere (the reconciler) hears it; later ones
    // meet a spent authorization, as after a failure decided in a request (settle.ts).
    ctx.outcome = 'settlement_failed';
    ctx.reason = REASON.settlementFailed;
    const header = encodeSettlementHeader(
      ctx.payload!.x402Version,
      {
        success: false,
        errorReason: REASON.settlementFailed,
        transaction: '',
        network: record.network,
        payer: record.payer,
      },
      recalled.offer,
    );
    return challengeReply(ctx, deps, REASON.settlementFailed, { [header.name]: header.value });
  }
  return undefined; // released or declined: nothing moved, the payment may be used afresh
}

/**
 * One request at a time answers a record (a resume or a redemption here, a credit in
 * paid-earlier.ts): two at once could each serve a whole response for one settlement. Released
 * when the request has ended (run.ts), after its attempt row is queued.
 */
function hold(ctx: RequestContext, deps: Deps, key: string): boolean {
  if (!deps.recordsInUse.take(key)) return false;
  ctx.heldRecord = key;
  return true;
}

/** Another request is answering this payment: its outcome decides this retry's answer. */
export function busyReply(ctx: RequestContext): Reply {
  ctx.outcome = 'settlement_pending';
  ctx.reason = REASON.settlementPending;
  return errorReply(
    503,
    REASON.settlementPending,
    'this payment is being answered by another request: retry shortly with the same payment',
    { 'retry-after': '2' },
  );
}

/**
 * `redeem`: never delivered, within the window, redemptions left, and the same method and path.
 * `spent`: delivered, or out of window or redemptions. `other`: a different request.
 */
function redemption(
  ctx: RequestContext,
  deps: Deps,
  record: LedgerRecord,
): 'redeem' | 'spent' | 'other' {
  const ledger = deps.config.ledger;
  if (ledger === false || record.deliveredAt !== undefined) return 'spent';
  const settledAt = record.settledAt ?? record.updatedAt;
  if (Date.now() - settledAt > ledger.redeemWindowSeconds * 1000) return 'spent';
  if (record.redemptions >= ledger.maxRedemptions) return 'spent';
  const same = record.method === (ctx.req.method ?? 'GET') && record.path === ctx.path + ctx.search;
  return same ? 'redeem' : 'other';
}
