/**
 * At start-up, before the gateway listens: what this process must remember of the book. Unresolved
 * records are pending again in the replay guard (their same-payload retry resumes) and in the
 * recall index (answered from the record); settled ones are spent until they expire, and those
 * never delivered may be redeemed; failed ones are refused.
 */
import type { LedgerStore } from '../ledger/index.js';
import type { ReplayGuard } from '../verify/index.js';
import type { RecallIndex } from './recall-index.js';

export interface RestoreOptions {
  readonly ledger: LedgerStore;
  readonly replay: ReplayGuard;
  readonly recallIndex: RecallIndex;
  /** Kept claims outlive validBefore by this margin, seconds (`replay.marginSeconds`). */
  readonly marginSeconds: number;
  readonly redeemWindowSeconds: number;
  readonly nowMs: number;
}

/** The longest a claim is held (verify stage's bound on validBefore), seconds. */
const MAX_HOLD_SECONDS = 86_400;

export async function restoreFromLedger(o: RestoreOptions): Promise<{ readonly restored: number }> {
  const horizonMs = (MAX_HOLD_SECONDS + o.marginSeconds + o.redeemWindowSeconds) * 1000;
  // Unresolved records however old (the money may still move); the others within the horizon.
  const records = [
    ...(await o.ledger.list({ states: ['settling', 'unknown'] })),
    ...(await o.ledger.list({
      states: ['settled', 'confirmed', 'disputed', 'failed'],
      since: o.nowMs - horizonMs,
    })),
  ];
  let restored = 0;
  for (const r of records) {
    const holdUntilMs =
      (Math.min(r.validBefore, o.nowMs / 1000 + MAX_HOLD_SECONDS) + o.marginSeconds) * 1000;
    const unresolved = r.state === 'settling' || r.state === 'unknown';
    const redeemable =
      r.deliveredAt === undefined &&
      r.state !== 'failed' &&
      !unresolved &&
      o.nowMs - (r.settledAt ?? r.updatedAt) <= o.redeemWindowSeconds * 1000;
    if (unresolved || redeemable || r.state === 'failed') o.recallIndex.add(r.nonce, r.key);
    // An unresolved record is kept however old: the money may still move.
    if (holdUntilMs <= o.nowMs && !unresolved) continue;
    const claimed = await o.replay.claim(
      r.key,
      () => r.digest,
      Math.max(holdUntilMs, o.nowMs + 60_000),
    );
    if (claimed.kind !== 'claimed') continue;
    if (unresolved) await o.replay.markPending(r.key, r.transaction, r.digest);
    else await o.replay.markSettled(r.key, r.transaction ?? '');
    restored++;
  }
  return { restored };
}
