/**
 * One response at a time per paid record across a fleet. A request serving a settled payment again
 * (a redemption, a credit) holds the record in the shared store, and so does the request that
 * settled it while its response streams (Payment.end marks it `serving`); both let go once the
 * response has ended and the book's writes about it (the attempt, `delivered_at`) are durable, so
 * the next holder reads whether it went out whole. Without a shared store (one process) the
 * process's RecordsInUse is the whole guard and this costs nothing.
 */
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import { holdUntilSec } from '../payment/index.js';

/** Hold `key` (a record whose authorization expires at `validBefore`) for this request's response. */
export async function holdAcrossFleet(
  ctx: RequestContext,
  deps: Deps,
  key: string,
  validBefore: number,
): Promise<'held' | 'busy' | 'unavailable'> {
  const replay = deps.replay;
  if (replay.hold === undefined) return 'held';
  const expiresAtMs =
    (holdUntilSec(validBefore, deps.nowSec()) + deps.config.replay.marginSeconds) * 1000;
  const answer = await replay.hold(key, expiresAtMs);
  if (answer === 'held') ctx.fleetHeld = key;
  return answer;
}

/**
 * At the end of a request: release what it served (the record it held, the payment it settled)
 * once the book has committed what this request wrote about it. A response that went out whole
 * (`delivered`) owes nothing to a retry: the store is told at once that it need not be asked
 * (RedisReplayGuard lets that hold lapse without a round trip).
 */
export function releaseWhenDurable(ctx: RequestContext, deps: Deps, delivered: boolean): void {
  const replay = deps.replay;
  if (replay.served === undefined) return;
  const state = ctx.payment?.state;
  const settled = state === 'settled' || state === 'delivered' ? ctx.payment!.facts.key : undefined;
  const held = ctx.fleetHeld;
  if (settled === undefined && held === undefined) return;
  const release = (): void => {
    if (held !== undefined) void replay.served?.(held, delivered);
    if (settled !== undefined && settled !== held) void replay.served?.(settled, delivered);
  };
  if (delivered) {
    release();
    return;
  }
  const flushed = deps.ledger?.flushed?.();
  if (flushed === undefined) release();
  else flushed.then(release, release);
}

/** Let go at once of a record this request held but will not serve (its credit was refused). */
export function releaseFleetHold(ctx: RequestContext, deps: Deps): void {
  const key = ctx.fleetHeld;
  if (key === undefined) return;
  ctx.fleetHeld = undefined;
  void deps.replay.served?.(key);
}
