/**
 * Responses paid by an earlier settlement, served without settling: a redemption (a retry, with
 * the same payment, of a settled one that never went out whole: stage `recall`) and a credit.
 *
 * A credit serves a new payment through its payer's credit (payment/credits.ts). The upstream
 * answered and may be paid for, the new payment is verified (its payer holds the key), and an
 * earlier settlement of theirs on the same route and price never delivered its response. The credit
 * is consumed in the book (an atomic redemption: never after a delivery, at most
 * `ledger.maxRedemptions`), the new payment is released unsettled (nothing moved: its signature
 * stays its payer's), and the PAYMENT-RESPONSE names the earlier settlement. A new signature never
 * pays twice for one response.
 *
 * First, the payer's unknown settlements on these terms are asked of the chain: one that landed is
 * a credit too. Nearly every request finds the index empty: one size check.
 */
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import type { Reply } from './stage.js';
import { challengeReply, ledgerUnavailableReply, replayStoreUnavailableReply } from './replies.js';
import { holdAcrossFleet, releaseFleetHold } from './fleet-hold.js';
import { moved } from '../ledger/index.js';
import type { Credit, CreditTerms } from '../payment/index.js';
import { encodeSettlementHeader, REASON, type Offer } from '../x402/index.js';

/** No credit was consumed: the new payment settles as usual. */
export const NO_CREDIT = Symbol('no credit');

/** Undefined: served through a credit (the response goes out); a Reply ends the request. */
export async function serveFromCredit(
  ctx: RequestContext,
  deps: Deps,
): Promise<Reply | undefined | typeof NO_CREDIT> {
  const credits = deps.credits;
  const payment = ctx.payment!;
  // A resumed payment settles its own authorization: it is not a new one.
  if (credits === undefined || credits.empty || payment.facts.resumed) return NO_CREDIT;
  const terms = termsOf(ctx);
  for (const key of credits.unknownOf(terms)) {
    try {
      await deps.resolveUnknown?.(key);
    } catch (err) {
      deps.log.warn({ reqId: ctx.id, key, err }, 'an unknown settlement could not be looked up');
    }
  }
  const max = deps.config.ledger === false ? 0 : deps.config.ledger.maxRedemptions;
  for (let credit = credits.take(terms, Date.now()); credit !== undefined;) {
    // Another instance may be serving that settlement right now: then this payment settles.
    const validBefore =
      deps.nowSec() + (deps.config.ledger === false ? 0 : deps.config.ledger.redeemWindowSeconds);
    const fleet = await holdAcrossFleet(ctx, deps, credit.key, validBefore);
    if (fleet !== 'held') {
      credits.giveBack(credit.key);
      if (fleet === 'busy') return NO_CREDIT;
      ctx.upstream!.discard();
      await payment.release();
      return replayStoreUnavailableReply(ctx);
    }
    let counted: boolean;
    try {
      counted = moved(await deps.ledger!.redeem(credit.key, max, Date.now()));
    } catch (err) {
      credits.giveBack(credit.key);
      ctx.upstream!.discard();
      await payment.release();
      deps.log.error({ reqId: ctx.id, err }, 'ledger write failed: a credit cannot be consumed');
      return ledgerUnavailableReply(ctx);
    }
    if (counted) return served(ctx, deps, credit);
    // Delivered or redeemed elsewhere, exhausted, disputed: owed nothing any more.
    releaseFleetHold(ctx, deps);
    credits.spend(credit.key);
    deps.metrics.credits.labels('refused').inc();
    credit = credits.take(terms, Date.now());
  }
  return NO_CREDIT;
}

async function served(ctx: RequestContext, deps: Deps, credit: Credit): Promise<undefined> {
  // Not charged: the new authorization is released, its verdict kept for a retry of it.
  await ctx.payment!.release();
  ctx.credit = credit;
  servedAsPaid(ctx, 'credited', credit, ctx.offer!);
  deps.metrics.credits.labels('consumed').inc();
  deps.log.info(
    { reqId: ctx.id, credit: credit.key, tx: credit.transaction },
    'served through a credit: the new payment is not settled',
  );
  return undefined;
}

/**
 * A settled payment whose response never went out whole, retried with the same payment: served
 * again without settling, at most `ledger.maxRedemptions` times (counted in the book, atomically).
 */
export async function redeem(ctx: RequestContext, deps: Deps): Promise<Reply | undefined> {
  const upstream = ctx.upstream!;
  const { record, offer } = ctx.recalled!;
  const ledger = deps.ledger!;
  let counted = false;
  try {
    const max = deps.config.ledger === false ? 0 : deps.config.ledger.maxRedemptions;
    const written = await ledger.redeem(record.key, max, Date.now());
    counted = moved(written);
  } catch (err) {
    upstream.discard();
    deps.log.error({ reqId: ctx.id, err }, 'ledger write failed: redemption refused');
    return ledgerUnavailableReply(ctx);
  }
  if (!counted) {
    upstream.discard();
    deps.recallIndex.delete(record.nonce);
    ctx.outcome = 'replay';
    ctx.reason = REASON.paymentAlreadyUsed;
    return challengeReply(ctx, deps, REASON.paymentAlreadyUsed);
  }
  servedAsPaid(ctx, 'redeemed', record, offer);
  return undefined;
}

/** The response goes out as paid by an earlier settlement, which its settlement header names. */
function servedAsPaid(
  ctx: RequestContext,
  outcome: 'redeemed' | 'credited',
  earlier: {
    readonly transaction: string | undefined;
    readonly network: string;
    readonly payer: string;
  },
  offer: Offer,
): void {
  ctx.outcome = outcome;
  ctx.transaction = earlier.transaction;
  ctx.settlementHeader = encodeSettlementHeader(
    ctx.payload!.x402Version,
    {
      success: true,
      transaction: earlier.transaction ?? '',
      network: earlier.network,
      payer: earlier.payer,
    },
    offer,
  );
}

/** This request's terms: its route, its verified payer, and the offer it pays. */
export function termsOf(ctx: RequestContext): CreditTerms {
  const offer = ctx.offer!;
  return {
    route: ctx.route!.id,
    payer: ctx.auth!.from,
    network: offer.network.caip2,
    asset: offer.asset.address,
    payTo: offer.payTo,
    amount: offer.amountText,
  };
}
