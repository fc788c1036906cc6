/**
 * How long this process holds on to a payment (its replay claim, its verify cache entry). A client
 * may sign validBefore up to uint256 max: holds are bounded to a day, and past that the chain's own
 * nonce check (seen by verify) still refuses a replay.
 */
export const MAX_HOLD_SECONDS = 86_400;

/** validBefore, bounded to what the stores keep (unix seconds). */
export function holdUntilSec(validBefore: number, nowSec: number): number {
  return Math.min(validBefore, nowSec + MAX_HOLD_SECONDS);
}
