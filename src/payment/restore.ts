/**
 * At start-up, before the gateway listens: what this process must remember of the book. Unresolved
 * records are pending again in the replay guard (their same-payload retry resumes) and in the
 * recall index (answered from the record); settled ones are spent until they expire, and those
 * never delivered may be redeemed, or credited to a new payment of their payer (credits.ts); failed
 * ones are refused.
 */
import type { LedgerRecord, LedgerStore } from '../ledger/index.js';
import type { ReplayGuard } from '../verify/index.js';
import { holdUntilSec, MAX_HOLD_SECONDS } from './hold.js';
import type { CreditIndex } from './credits.js';
import type { RecallIndex } from './recall-index.js';

export interface RestoreOptions {
  readonly ledger: LedgerStore;
  readonly replay: ReplayGuard;
  readonly recallIndex: RecallIndex;
  /** Settled, undelivered payments owed a response, and unknown ones that may become so. */
  readonly credits?: CreditIndex | undefined;
  /** Kept claims outlive validBefore by this margin, seconds (`replay.marginSeconds`). */
  readonly marginSeconds: number;
  readonly redeemWindowSeconds: number;
  readonly nowMs: number;
}

export async function restoreFromLedger(o: RestoreOptions): Promise<{ readonly restored: number }> {
  const nowSec = o.nowMs / 1000;
  const { ledger } = o;
  let restored = 0;
  const hold = async (r: LedgerRecord, pending: boolean): Promise<void> => {
    const holdUntilMs = (holdUntilSec(r.validBefore, nowSec) + o.marginSeconds) * 1000;
    // An unresolved record is held however old: the money may still move.
    const claimed = await o.replay.claim(
      r.key,
      () => r.digest,
      Math.max(holdUntilMs, o.nowMs + 60_000),
    );
    if (claimed.kind !== 'claimed') return;
    if (pending) await o.replay.markPending(r.key, r.transaction, r.digest);
    else await o.replay.markSettled(r.key, r.transaction ?? '');
    restored++;
  };
  // Each query reads only what it needs: a busy book holds far more records than any of these.
  for (const r of await ledger.list({ states: ['settling', 'unknown'] })) {
    o.recallIndex.add(r.nonce, r.key);
    o.credits?.addUnknown(r, r.key);
    await hold(r, true);
  }
  // Spent while a replay of them could still be offered (validBefore + margin ahead).
  for (const r of await ledger.list({
    states: ['settled', 'confirmed', 'disputed', 'failed'],
    validBeforeFrom: Math.floor(nowSec) - o.marginSeconds,
  })) {
    if (r.state === 'failed') o.recallIndex.add(r.nonce, r.key);
    await hold(r, false);
  }
  // Settled, never delivered, within the redeem window: their retry is served again.
  const windowMs = o.redeemWindowSeconds * 1000;
  for (const r of await ledger.list({
    undelivered: true,
    since: o.nowMs - windowMs - MAX_HOLD_SECONDS * 1000,
  })) {
    const settledAt = r.settledAt ?? r.updatedAt;
    if (o.nowMs - settledAt > windowMs) continue;
    o.recallIndex.add(r.nonce, r.key);
    if (r.state !== 'disputed') o.credits?.grant({ ...r, settledAt });
  }
  return { restored };
}
