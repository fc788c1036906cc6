/**
 * The request path's side of the rate limits (rate-limits.ts): where each limit is checked and
 * counted, and the 429 a refusal answers with. Called from the stages at the one place each check
 * belongs (see each function), so a request pays only for the checks its path meets.
 */
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import type { Reply } from './stage.js';
import type { RateLimitName } from '../metrics/index.js';
import { errorReply } from './replies.js';
import { GATEWAY_REASON } from './reasons.js';
import { checkClient, signedByFrom } from './local-signature.js';
import { PAYER_KEY_REFUSALS, type VerifyResponse } from '../x402/index.js';

const REFUSAL: Readonly<Record<RateLimitName, { reason: string; message: string }>> = {
  challenges: {
    reason: GATEWAY_REASON.challengeRateExceeded,
    message: 'too many payment challenges from this client: retry after the delay',
  },
  client_failures: {
    reason: GATEWAY_REASON.paymentFailureRateExceeded,
    message: 'too many failed payments from this client: retry after the delay',
  },
  payer_failures: {
    reason: GATEWAY_REASON.payerFailureRateExceeded,
    message: 'too many failed payments by this payer: retry after the delay',
  },
};

/** extract: a request without a payment takes a challenge token before its 402. */
export function challengeLimit(ctx: RequestContext, deps: Deps): Reply | undefined {
  const limits = deps.rateLimits;
  if (limits === undefined) return undefined;
  const wait = limits.challenge(checkClient(ctx));
  return wait === 0 ? undefined : refuse(ctx, deps, 'challenges', wait);
}

/** select (not for a retry the book answers): a client over its failures pays nothing more now. */
export function clientFailureLimit(ctx: RequestContext, deps: Deps): Reply | undefined {
  const limits = deps.rateLimits;
  if (limits === undefined) return undefined;
  const wait = limits.clientWait(checkClient(ctx));
  return wait === 0 ? undefined : refuse(ctx, deps, 'client_failures', wait);
}

/** precheck, once `from` is known: before the claim and any facilitator call. */
export function payerFailureLimit(ctx: RequestContext, deps: Deps): Reply | undefined {
  const limits = deps.rateLimits;
  if (limits === undefined || ctx.payer === undefined) return undefined;
  const wait = limits.payerWait(ctx.payer);
  return wait === 0 ? undefined : refuse(ctx, deps, 'payer_failures', wait);
}

/**
 * Outcomes of a payment attempt that failed because of what the client sent: a malformed header,
 * a refused, replayed or declined payment. Not ours (a facilitator, ledger or upstream failure),
 * not a pending settlement, not a 429 (a refusal must not extend itself).
 */
const FAILED: ReadonlySet<string> = new Set([
  'bad_request',
  'rejected',
  'replay',
  'settlement_failed',
]);

/** observe (run.ts), once per request: a failed payment attempt spends a client failure token. */
export function countClientFailure(ctx: RequestContext, deps: Deps): void {
  if (ctx.headerValue === undefined || ctx.recalled !== undefined) return;
  if (!FAILED.has(ctx.outcome)) return;
  // A paid request whose body was too large or stalled (forward.ts) failed, but not its payment.
  if (ctx.reason === GATEWAY_REASON.payloadTooLarge || ctx.reason === GATEWAY_REASON.bodyTimeout)
    return;
  deps.rateLimits?.clientFailed(checkClient(ctx));
}

/**
 * verify, on the facilitator's fresh refusal (never a cached one: a copy sent again is not counted
 * again): counted against the payer only when the signature recovers to `from` here.
 */
export function countPayerRefusal(ctx: RequestContext, deps: Deps, verdict: VerifyResponse): void {
  const limits = deps.rateLimits;
  if (limits === undefined || !limits.enabled || ctx.payer === undefined) return;
  if (!PAYER_KEY_REFUSALS.has(verdict.invalidReason ?? '')) return;
  if (signedByFrom(ctx, deps)) limits.payerFailed(ctx.payer);
}

/**
 * settle, after the facilitator verified the payment (so its key signed it): a settlement declined
 * for the payer's funds, value or recipient (`reason`), or one that failed on chain (`undefined`:
 * the authorization was canceled or its nonce spent, which only the payer's key can do). A decline
 * for our network, the facilitator's state or the time we took is not the payer's.
 */
export function countPayerDecline(
  ctx: RequestContext,
  deps: Deps,
  reason: string | undefined,
): void {
  if (ctx.payer === undefined) return;
  if (reason !== undefined && !PAYER_KEY_REFUSALS.has(reason)) return;
  deps.rateLimits?.payerFailed(ctx.payer);
}

function refuse(ctx: RequestContext, deps: Deps, limit: RateLimitName, wait: number): Reply {
  const { reason, message } = REFUSAL[limit];
  ctx.outcome = 'rate_limited';
  ctx.reason = reason;
  deps.metrics.rateLimits.limited(limit);
  if (deps.rateLimits!.shouldLog(limit)) {
    deps.log.warn(
      {
        reqId: ctx.id,
        limit,
        client: checkClient(ctx),
        payer: limit === 'payer_failures' ? ctx.payer : undefined,
        retryAfter: wait,
      },
      'rate limit exceeded: 429',
    );
  }
  return errorReply(429, reason, message, { 'retry-after': String(wait) });
}
