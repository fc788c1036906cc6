/**
 * Stage 10: collect the money for a response the upstream produced, before a byte of it leaves.
 * The record is made durable first (write-ahead; no record → 503, nothing sent). Then:
 * success → serve with the settlement header; declined → 402, body withheld, claim released;
 * unknown → 503 settlement_pending, body withheld, claim kept so the same signature settles again.
 * A redeemed payment (settled before, never delivered) is served without settling, and so is a new
 * payment whose payer holds a credit (paid-earlier.ts).
 */
import type { RequestContext } from '../context.js';
import type { Deps } from '../deps.js';
import type { Reply, Stage } from '../stage.js';
import { NO_CREDIT, redeem, serveFromCredit, termsOf } from '../paid-earlier.js';
import { facilitatorRequest } from '../facilitator-request.js';
import {
  challengeReply,
  clientGoneReply,
  errorReply,
  ledgerUnavailableReply,
  replayStoreUnavailableReply,
} from '../replies.js';
import {
  classifySettlement,
  checkSuccess,
  resolveResumed,
  type SettleOutcome,
  shouldSettle,
} from '../../settle/index.js';
import type { Address, Hex } from 'viem';
import {
  labelInDetail,
  viaDetail,
  type FacilitatorMember,
  type FacilitatorRequest,
  type FacilitatorResult,
  type Routed,
  type SettleRoute,
} from '../../verify/index.js';
import {
  CORS_EXPOSE_HEADERS,
  encodeSettlementHeader,
  REASON,
  type SettleResponse,
} from '../../x402/index.js';
import { GATEWAY_REASON } from '../reasons.js';
import { ClaimLostError } from '../../payment/index.js';
import { countPayerDecline } from '../rate-limited.js';

export const settle: Stage = {
  name: 'settle',
  paidOnly: true,
  async run(ctx, deps) {
    let held = holdResponse(ctx);
    if (held instanceof Promise) held = await held;
    if (held !== PAY) {
      // Nothing is charged: a fresh payment is released (its signature stays usable).
      await ctx.payment?.release();
      return held === PASS ? undefined : held;
    }
    if (ctx.recalled?.mode === 'redeem') return redeem(ctx, deps);
    const credited = await serveFromCredit(ctx, deps);
    if (credited !== NO_CREDIT) return credited;
    const payment = ctx.payment!;
    const upstream = ctx.upstream!;
    const offer = ctx.offer!;
    const auth = ctx.auth!;
    const refused = await writeAhead(ctx, deps);
    if (refused !== undefined) return refused;
    let outcome = checkSuccess(await settleWithRetry(ctx, deps), offer, auth.from);
    if (payment.facts.resumed && outcome.kind !== 'success') {
      // Not confirmed again: the facilitator's word proves nothing, the chain decides (settle/resumed.ts).
      outcome = await resolveResumed(
        outcome,
        {
          query: {
            asset: offer.asset.address,
            from: auth.from as Address,
            to: offer.payTo,
            value: offer.amount,
            nonce: auth.nonce as Hex,
            validBefore: auth.validBefore,
            // The hash of the first attempt, else one this attempt learnt.
            transaction:
              payment.facts.priorTransaction ??
              (outcome.kind === 'unknown' ? outcome.transaction : undefined),
          },
          network: offer.network.caip2,
          payer: ctx.payer,
        },
        deps.chains.get(offer.network.caip2),
      );
    }
    deps.metrics.settlements.labels(outcome.kind === 'unknown' ? 'pending' : outcome.kind).inc();
    const version = ctx.payload!.x402Version;
    switch (outcome.kind) {
      case 'success': {
        const tx = outcome.response.transaction;
        // Counted once: when this request moved the record to settled (durable), or with no ledger.
        // If the book could not be written, the reconciler settles the record and counts it then.
        deps.facilitators.forget(ctx.replayKey);
        const moved = await payment.end('settled', tx);
        ctx.transaction = tx;
        ctx.payer = outcome.response.payer ?? ctx.payer;
        ctx.outcome = 'paid';
        ctx.settlementHeader = encodeSettlementHeader(version, outcome.response, offer);
        if (moved || deps.ledger === undefined) {
          deps.metrics.revenue
            .labels(ctx.route!.id, offer.network.caip2, offer.asset.address, offer.payTo)
            .inc(Number(offer.amount));
        }
        return undefined;
      }
      case 'declined': {
        upstream.discard();
        deps.facilitators.forget(ctx.replayKey);
        // Proven that nothing moved; the facilitator's earlier "valid" is not kept (Payment.end).
        await payment.end('declined', undefined, outcome.reason);
        countPayerDecline(ctx, deps, outcome.reason);
        ctx.outcome = 'settlement_failed';
        ctx.reason = outcome.reason;
        const header = encodeSettlementHeader(version, outcome.response, offer);
        return challengeReply(ctx, deps, outcome.reason, { [header.name]: header.value });
      }
      case 'failed': {
        upstream.discard();
        deps.facilitators.forget(ctx.replayKey);
        // Spent without paying us (canceled, or used elsewhere): it can never pay; end the claim.
        await payment.end('failed', undefined, outcome.detail);
        countPayerDecline(ctx, deps, undefined);
        // This answer tells the failure; a later retry meets a spent authorization (already used).
        deps.recallIndex.delete(auth.nonce);
        ctx.outcome = 'settlement_failed';
        ctx.reason = REASON.settlementFailed;
        deps.log.warn(
          { reqId: ctx.id, detail: outcome.detail },
          'resumed settlement failed on chain',
        );
        const header = encodeSettlementHeader(version, outcome.response, offer);
        return challengeReply(ctx, deps, REASON.settlementFailed, { [header.name]: header.value });
      }
      case 'unknown': {
        upstream.discard();
        // The facilitator that may have it keeps it: a retry resumes there, and the book says so.
        if (ctx.settledBy !== undefined)
          deps.facilitators.holdUnknown(ctx.replayKey, ctx.settledBy);
        await payment.end('unknown', outcome.transaction, viaDetail(ctx.settledBy, outcome.detail));
        // Its retry is answered from the record, whatever the time window or today's prices say.
        if (deps.ledger !== undefined) deps.recallIndex.add(auth.nonce, ctx.replayKey);
        // If it landed after all, its payer's next new payment is served through it (paid-earlier.ts).
        deps.credits?.addUnknown(termsOf(ctx), ctx.replayKey);
        ctx.outcome = 'settlement_pending';
        ctx.reason = REASON.settlementPending;
        ctx.transaction = outcome.transaction;
        deps.log.warn(
          {
            reqId: ctx.id,
            facilitator: ctx.settledBy?.label,
            tx: outcome.transaction,
            detail: outcome.detail,
          },
          'settlement outcome unknown; claim kept',
        );
        const header = encodeSettlementHeader(
          version,
          {
            success: false,
            errorReason: REASON.settlementPending,
            transaction: outcome.transaction ?? '',
            network: offer.network.caip2,
            payer: ctx.payer,
          },
          offer,
        );
        return errorReply(
          503,
          REASON.settlementPending,
          'settlement not confirmed yet: retry with the same payment',
          {
            'retry-after': '5',
            'access-control-expose-headers': CORS_EXPOSE_HEADERS,
            [header.name]: header.value,
          },
        );
      }
    }
  },
};

const PAY = Symbol('pay');
const PASS = Symbol('pass');

/**
 * The upstream's response, held until the money is decided. PAY: it may be paid for (status < 400,
 * buffered whole if the route asks, the client still there). PASS: the upstream failed, its answer
 * goes through unpaid. Otherwise the Reply that ends the request; nothing is charged on either.
 */
function holdResponse(ctx: RequestContext): Held | Promise<Held> {
  if (!shouldSettle(ctx.upstream!.status)) {
    ctx.outcome = 'upstream_status';
    return PASS;
  }
  const mode = ctx.route!.spec.settle;
  // Only a buffered route waits here: the default path spends no promise on it.
  return mode.mode === 'buffer' ? buffered(ctx, mode.maxBufferBytes) : whileClientStays(ctx);
}

type Held = typeof PAY | typeof PASS | Reply;

async function buffered(ctx: RequestContext, maxBytes: number): Promise<Held> {
  const body = await ctx.upstream!.read(maxBytes);
  if (typeof body === 'string') {
    ctx.outcome = 'upstream_error';
    ctx.reason =
      body === 'too_large'
        ? GATEWAY_REASON.upstreamResponseTooLarge
        : GATEWAY_REASON.upstreamUnavailable;
    return errorReply(502, ctx.reason, 'upstream response could not be buffered');
  }
  ctx.bufferedBody = body;
  return whileClientStays(ctx);
}

function whileClientStays(ctx: RequestContext): Held {
  if (!ctx.clientGone) return PAY;
  ctx.upstream!.discard();
  return clientGoneReply(ctx);
}

/**
 * The write-ahead record, durable before any settle request leaves. A Reply when it cannot be
 * written (503, the payment released: nothing was sent) or when the book already holds this
 * authorization in a state a fresh settlement cannot follow (402).
 */
async function writeAhead(ctx: RequestContext, deps: Deps): Promise<Reply | undefined> {
  const payment = ctx.payment!;
  const upstream = ctx.upstream!;
  let began;
  try {
    began = await payment.settling();
  } catch (err) {
    upstream.discard();
    await payment.release();
    if (err instanceof ClaimLostError) {
      // A shared replay store lost this claim (taken over after its lease) or cannot answer.
      deps.log.warn({ reqId: ctx.id, err }, 'replay claim not held at settlement: nothing settled');
      return replayStoreUnavailableReply(ctx);
    }
    deps.log.error({ reqId: ctx.id, err }, 'ledger write failed: payment refused, nothing settled');
    return ledgerUnavailableReply(ctx);
  }
  if (began.kind === 'settling') return undefined;
  upstream.discard();
  await payment.release();
  ctx.outcome = 'replay';
  ctx.reason = REASON.paymentAlreadyUsed;
  deps.log.warn(
    { reqId: ctx.id, state: began.state },
    'the ledger already holds this authorization: not settled again',
  );
  return challengeReply(ctx, deps, REASON.paymentAlreadyUsed);
}

/**
 * One settle call; `settlement_pending` gets exactly one identical retry (the facilitator
 * reconciles). The whole phase, retry included, is bounded by `facilitator.settleTimeoutMs`: the
 * retry gets only what the first call left (none when less than {@link MIN_RETRY_MS} is left), and
 * a deadline that passes is `unknown` (503 settlement_pending), never a failure. That bound is what
 * `minRemainingSec` and the maxTimeoutSeconds rule count (gateway.ts, config/routes.ts).
 */
async function settleWithRetry(ctx: RequestContext, deps: Deps): Promise<SettleOutcome> {
  const request = facilitatorRequest(ctx, deps);
  const started = performance.now();
  const phaseMs = deps.facilitators.settleTimeoutMs;
  const deadline = started + phaseMs;
  const route = settleRoute(ctx, deps);
  // The first call's own deadline is settleTimeoutMs (the client's); an implementation that
  // ignores it is still cut at the phase's deadline.
  const first = await settleBefore(ctx, deps, request, route, deadline, phaseMs);
  let outcome = classifySettlement(observeSettle(deps, first.result, started));
  if (outcome.kind === 'unknown' && outcome.saidPending && first.by !== undefined) {
    const said = outcome;
    const again = performance.now();
    if (deadline - again >= MIN_RETRY_MS) {
      // The identical retry goes to the facilitator that said pending, and only there.
      const retry = { via: first.by, pinned: true };
      const retried = classifySettlement(
        observeSettle(
          deps,
          (await settleBefore(ctx, deps, request, retry, deadline, phaseMs)).result,
          again,
        ),
      );
      // Keep the tx hash we learnt if the retry knows none.
      outcome =
        retried.kind === 'unknown' && retried.transaction === undefined
          ? { ...retried, transaction: said.transaction }
          : retried;
    }
  }
  ctx.settledBy = first.by;
  ctx.settleMs = performance.now() - started;
  return outcome;
}

/**
 * Where this settlement goes (verify/failover.ts): a resumed one to the facilitator that had it
 * (remembered by this process, or named in the ledger record's detail), and only there; a fresh
 * one to the facilitator that verified it, else the first that can take it.
 */
function settleRoute(ctx: RequestContext, deps: Deps): SettleRoute {
  const pool = deps.facilitators;
  if (ctx.payment!.facts.resumed) {
    const holder =
      pool.holder(ctx.replayKey) ?? pool.find(labelInDetail(ctx.recalled?.record.detail) ?? '');
    if (holder !== undefined) return { via: holder, pinned: true };
    // This process does not know who had it (a restart without a ledger, a reload that dropped
    // the facilitator): the rule of a fresh payment is the best guess left.
    return { via: undefined, pinned: false };
  }
  return { via: ctx.verifiedBy, pinned: false };
}

/** A settle retry with less time left than this is not sent: the answer stays pending. */
const MIN_RETRY_MS = 100;

/**
 * One settle call that answers by `deadline` (performance.now() ms) whatever the facilitator does:
 * it is asked to finish by then, and a `timeout` is returned if it has not (it may have broadcast:
 * unknown).
 */
function settleBefore(
  ctx: RequestContext,
  deps: Deps,
  request: FacilitatorRequest,
  route: SettleRoute,
  deadline: number,
  phaseMs: number,
): Promise<Routed<SettleResponse>> {
  const timeoutMs = Math.max(1, Math.floor(deadline - performance.now()));
  const offer = ctx.offer!;
  const version = request.x402Version;
  const sent: { member: FacilitatorMember | undefined } = { member: undefined };
  const call = deps.facilitators.settle(
    request,
    version,
    version === 1 ? offer.network.v1Name : offer.network.caip2,
    route,
    timeoutMs,
    sent,
  );
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<Routed<SettleResponse>>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          result: {
            kind: 'unavailable',
            failure: 'timeout',
            detail: `settle: no answer within the settle phase's ${phaseMs} ms`,
          },
          // The facilitator it was sent to may have it: a retry resumes there.
          by: sent.member,
        }),
      // A little later than the call's own deadline, so a client that honours it answers first.
      timeoutMs + 20,
    );
    timer.unref();
  });
  return Promise.race([call, cut]).finally(() => clearTimeout(timer));
}

/** Metrics of one settle call, passed through (not an async wrapper: that is one more tick per payment). */
function observeSettle(
  deps: Deps,
  result: FacilitatorResult<SettleResponse>,
  started: number,
): FacilitatorResult<SettleResponse> {
  deps.metrics.facilitatorDuration.labels('settle').observe((performance.now() - started) / 1000);
  deps.metrics.facilitatorRequests
    .labels('settle', result.kind === 'ok' ? 'ok' : result.failure)
    .inc();
  return result;
}
