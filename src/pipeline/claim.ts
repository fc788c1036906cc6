/**
 * The end of a replay claim, in one place, so every exit path of the pipeline leaves the claim in
 * the state the money is in.
 */
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';

/**
 * Money surely did not move. A fresh claim is released so the client can retry with the same
 * signature. A resumed claim (an earlier settlement is unknown) goes back to pending instead:
 * the earlier broadcast may still land.
 */
export async function releaseClaim(ctx: RequestContext, deps: Deps): Promise<void> {
  const state = ctx.claim;
  ctx.claim = 'done';
  if (state === 'fresh') await deps.replay.release(ctx.replayKey);
  else if (state === 'resumed') await deps.replay.markPending(ctx.replayKey, ctx.priorTransaction);
}

/** Settlement outcome unknown: keep the claim, let the same signature resume it. */
export async function keepClaimPending(
  ctx: RequestContext,
  deps: Deps,
  transaction: string | undefined,
): Promise<void> {
  if (ctx.claim !== 'fresh' && ctx.claim !== 'resumed') return;
  ctx.claim = 'done';
  await deps.replay.markPending(ctx.replayKey, transaction ?? ctx.priorTransaction);
}

/** Settled: the authorization is spent; keep the record until validBefore plus margin. */
export async function markClaimSettled(
  ctx: RequestContext,
  deps: Deps,
  transaction: string,
): Promise<void> {
  if (ctx.claim !== 'fresh' && ctx.claim !== 'resumed') return;
  ctx.claim = 'done';
  await deps.replay.markSettled(ctx.replayKey, transaction);
}
