/**
 * At start-up, before the gateway listens: what this process must remember of the book. Unresolved
 * records are pending again in the replay guard (their same-payload retry resumes) and in the
 * recall index (answered from the record); settled ones are spent until they expire, and those
 * never delivered may be redeemed, or credited to a new payment of their payer (credits.ts); failed
 * ones are refused.
 */
import type { LedgerRecord, LedgerStore } from '../ledger/index.js';
import type { ReplayGuard } from '../verify/index.js';
import { holdUntilSec } from './hold.js';
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
  // By settlement time, not creation: a record unknown for days may have settled an hour ago.
  for (const r of await ledger.list({ undelivered: true, settledSince: o.nowMs - windowMs })) {
    const settledAt = r.settledAt ?? r.updatedAt;
    if (o.nowMs - settledAt > windowMs) continue;
    o.recallIndex.add(r.nonce, r.key);
    if (r.state !== 'disputed' && o.credits !== undefined && (await provenUndelivered(o, r))) {
      o.credits.grant({ ...r, settledAt });
    }
  }
  return { restored };
}

/**
 * A credit serves the payer's NEXT payment, so it needs proof that no response of this one went
 * out whole. Attempt rows are appended, never awaited: a crash in those milliseconds loses the row
 * of a response that may have been delivered. So the book must hold the row of every response
 * served for it (the request that settled it, unless the reconciler or an operator settled it
 * after its request ended unanswered; and one per redemption counted), and none delivered. Without
 * that proof the record stays redeemable by its own retry and listed for refunds, but is no credit.
 */
async function provenUndelivered(o: RestoreOptions, r: LedgerRecord): Promise<boolean> {
  const attempts = await o.ledger.attempts(r.key);
  if (attempts.some((a) => a.delivered)) return false;
  const again = attempts.filter((a) => a.outcome === 'redeemed' || a.outcome === 'credited');
  if (again.length < r.redemptions) return false;
  if (attempts.some((a) => a.outcome === 'paid')) return true;
  const resolutions = await o.ledger.resolutions(r.key);
  return resolutions.some(
    (x) => x.to === 'settled' && (x.by === 'reconciler' || x.by === 'operator'),
  );
}
