/**
 * The end of a replay claim, in one place, so every exit path of the pipeline leaves the claim in
 * the state the money is in. Each returns what the replay guard returned: nothing from the
 * in-memory guard, a promise from a networked one; `await` it either way off the hot path.
 */
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import type { Awaitable } from '../verify/index.js';

/**
 * Money surely did not move. A fresh claim is released so the client can retry with the same
 * signature, and the facilitator's verdict on it is cached for that retry. A resumed claim (an
 * earlier settlement is unknown) goes back to pending instead: the earlier broadcast may still land.
 */
export function releaseClaim(ctx: RequestContext, deps: Deps): Awaitable<void> {
  const state = ctx.claim;
  ctx.claim = 'done';
  if (state === 'fresh') {
    if (ctx.verdictToCache !== undefined) {
      const validBefore = boundedValidBefore(ctx.auth!.validBefore, deps);
      deps.verifyCache.set(ctx.replayKey, ctx.digestOf(), ctx.verdictToCache, validBefore);
    }
    return deps.replay.release(ctx.replayKey);
  }
  if (state === 'resumed')
    return deps.replay.markPending(ctx.replayKey, ctx.priorTransaction, ctx.digestOf());
}

/** Settlement outcome unknown: keep the claim, let the same signature resume it. */
export function keepClaimPending(
  ctx: RequestContext,
  deps: Deps,
  transaction: string | undefined,
): Awaitable<void> {
  if (ctx.claim !== 'fresh' && ctx.claim !== 'resumed') return;
  ctx.claim = 'done';
  return deps.replay.markPending(
    ctx.replayKey,
    transaction ?? ctx.priorTransaction,
    ctx.digestOf(),
  );
}

/** Settled: the authorization is spent; keep the record until validBefore plus margin. */
export function markClaimSettled(
  ctx: RequestContext,
  deps: Deps,
  transaction: string,
): Awaitable<void> {
  if (ctx.claim !== 'fresh' && ctx.claim !== 'resumed') return;
  ctx.claim = 'done';
  return deps.replay.markSettled(ctx.replayKey, transaction);
}

/**
 * A client may sign validBefore up to uint256 max. Records and cache entries are bounded to a day:
 * past that, the chain's own nonce check (seen by verify) still refuses a replay.
 */
const MAX_HOLD_SECONDS = 86_400;
export function boundedValidBefore(validBefore: number, deps: Deps): number {
  return Math.min(validBefore, deps.nowSec() + MAX_HOLD_SECONDS);
}
