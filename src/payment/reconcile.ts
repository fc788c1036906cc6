/**
 * Reconciliation: every record ends agreeing with the chain. A pass visits the unresolved records
 * (`settling`, `unknown`) and the settled ones not yet confirmed, and asks the token itself:
 *
 *   settling | unknown  our Transfer landed            → settled (revenue counted, once)
 *                       it cannot happen any more       → failed  (nonce unused past validBefore,
 *                                                                  or used without our Transfer)
 *                       it still may, or no answer      → unknown (visited again next pass)
 *   settled             our Transfer at `confirmations` → confirmed
 *                       reverted, vanished, not ours    → disputed (logged as an error, counted)
 *
 * A network without an RPC cannot be reconciled: its records stay as they are (`no_rpc`).
 * Runs at start-up (before the gateway listens) and then every `intervalMs`.
 */
import type { Address, Hex } from 'viem';
import type { Logger } from 'pino';
import type { ChainReader, TransferQuery } from '../chains/index.js';
import { moved, type LedgerRecord, type LedgerState, type LedgerStore } from '../ledger/index.js';
import type { ReplayGuard } from '../verify/index.js';
import type { CreditIndex } from './credits.js';
import type { RecallIndex } from './recall-index.js';

export type ReconcileOutcome =
  'settled' | 'failed' | 'confirmed' | 'disputed' | 'unresolved' | 'waiting' | 'no_rpc';

export const RECONCILE_OUTCOMES: readonly ReconcileOutcome[] = Object.freeze([
  'settled',
  'failed',
  'confirmed',
  'disputed',
  'unresolved',
  'waiting',
  'no_rpc',
]);

export interface ReconcilerOptions {
  readonly ledger: LedgerStore;
  /** A chain reader per CAIP-2 network. */
  readonly chains: ReadonlyMap<string, ChainReader>;
  readonly confirmations: number;
  /** A `settling` record younger than this may still be in its request: left alone. */
  readonly settlingGraceMs: number;
  /**
   * Other processes write this book too (workers, instances sharing a Postgres ledger): a pass
   * at start-up keeps the grace, since their requests may hold `settling` records right now.
   */
  readonly sharedBook?: boolean;
  readonly recallIndex: RecallIndex;
  /** A record settled here and never delivered is owed a response: a credit for its payer. */
  readonly credits?: CreditIndex | undefined;
  /** This process's replay guard: a record settled or failed here is spent there too. */
  readonly replay: ReplayGuard;
  /** A record this pass moved to settled: count its revenue. */
  onSettled(record: LedgerRecord): void;
  onOutcome(outcome: ReconcileOutcome): void;
  readonly log: Logger;
  readonly now?: () => number;
}

export type PassSummary = Readonly<Record<ReconcileOutcome, number>>;

/** A pass that visited nothing: every outcome at 0. */
export const NOTHING_RECONCILED: PassSummary = Object.freeze(
  Object.fromEntries(RECONCILE_OUTCOMES.map((o) => [o, 0])) as Record<ReconcileOutcome, number>,
);

const OPEN: readonly LedgerState[] = ['settling', 'unknown'];

export class Reconciler {
  #timer: NodeJS.Timeout | undefined = undefined;
  #running: Promise<PassSummary> | undefined = undefined;

  constructor(private readonly o: ReconcilerOptions) {}

  /**
   * One pass over every record that may still change; a pass already running is shared. At
   * start-up no request of this process can hold a `settling` record, so none is left alone
   * (unless the book is shared: another process's request may).
   */
  pass(options: { readonly startup?: boolean } = {}): Promise<PassSummary> {
    const graceMs =
      options.startup === true && this.o.sharedBook !== true ? 0 : this.o.settlingGraceMs;
    this.#running ??= this.#pass(graceMs).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * One `unknown` record, now: the visit a pass would make (a new payment of its payer is about to
   * settle, and this one may have landed: pipeline/paid-earlier.ts). A `settling` record is left alone:
   * its request may still be running. Undefined when there was nothing to visit.
   */
  async resolve(key: string): Promise<ReconcileOutcome | undefined> {
    const record = await this.o.ledger.get(key);
    if (record?.state !== 'unknown') {
      if (record !== undefined && record.state !== 'settling') this.o.credits?.forget(key);
      return undefined;
    }
    const outcome = await this.#visit(record);
    this.o.onOutcome(outcome);
    return outcome;
  }

  /** Passes every `intervalMs` from now on (the first one is the caller's). */
  start(intervalMs: number): void {
    this.#timer = setInterval(() => {
      this.pass().catch((err: unknown) => this.o.log.error({ err }, 'reconciliation pass failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #pass(graceMs: number): Promise<PassSummary> {
    const summary: Record<ReconcileOutcome, number> = { ...NOTHING_RECONCILED };
    // Settled records wait for confirmations only where a chain can be read: on a network without
    // an RPC they would be listed again on every pass, forever.
    const networks = [...this.o.chains.keys()];
    const records = [
      ...(await this.o.ledger.list({ states: OPEN })),
      ...(await this.o.ledger.list({ states: ['settled'], networks })),
    ];
    const now = (this.o.now ?? Date.now)();
    for (const record of records) {
      if (record.state === 'settling' && now - record.updatedAt < graceMs) continue;
      const outcome = await this.#visit(record).catch((err: unknown) => {
        this.o.log.warn({ err, key: record.key }, 'reconciling a record failed');
        return 'unresolved' as const;
      });
      summary[outcome]++;
      this.o.onOutcome(outcome);
    }
    return summary;
  }

  async #visit(record: LedgerRecord): Promise<ReconcileOutcome> {
    const chain = this.o.chains.get(record.network);
    if (chain === undefined) return 'no_rpc';
    const query = transferQuery(record);
    const { ledger, log } = this.o;
    if (record.state === 'settled') {
      const verdict = await chain.checkSettled(query, this.o.confirmations);
      switch (verdict.kind) {
        case 'confirmed': {
          const note = `${verdict.confirmations} confirmations`;
          const w = await ledger.change(
            record.key,
            ['settled'],
            { state: 'confirmed', transaction: verdict.transaction, detail: note },
            'reconciler',
          );
          return moved(w) ? 'confirmed' : 'waiting';
        }
        case 'disputed': {
          const w = await ledger.change(
            record.key,
            ['settled'],
            { state: 'disputed', detail: verdict.detail },
            'reconciler',
          );
          if (moved(w)) {
            log.error(
              { key: record.key, tx: record.transaction, detail: verdict.detail },
              'a settled payment is disputed by the chain: check it, it is still counted as revenue',
            );
          }
          return 'disputed';
        }
        default:
          return 'waiting';
      }
    }
    const verdict = await chain.checkTransfer(query);
    switch (verdict.kind) {
      case 'landed': {
        const w = await ledger.change(
          record.key,
          OPEN,
          {
            state: 'settled',
            transaction: verdict.transaction,
            detail: 'the chain shows our transfer',
          },
          'reconciler',
        );
        if (!moved(w)) return 'unresolved';
        await this.o.replay.markSettled(record.key, verdict.transaction);
        this.o.onSettled(record);
        // Its retry is served (redeemed), and a new payment of its payer is served through it
        // (a credit), unless a response already went out whole.
        if (record.deliveredAt === undefined) {
          this.o.recallIndex.add(record.nonce, record.key);
          this.o.credits?.grant({
            ...record,
            transaction: verdict.transaction,
            settledAt: (this.o.now ?? Date.now)(),
          });
        }
        log.info({ key: record.key, tx: verdict.transaction }, 'reconciled: settled on chain');
        return 'settled';
      }
      case 'failed': {
        const w = await ledger.change(
          record.key,
          OPEN,
          { state: 'failed', detail: verdict.detail },
          'reconciler',
        );
        if (!moved(w)) return 'unresolved';
        await this.o.replay.markSettled(record.key, '');
        this.o.recallIndex.add(record.nonce, record.key);
        this.o.credits?.forget(record.key);
        log.info({ key: record.key, detail: verdict.detail }, 'reconciled: failed on chain');
        return 'failed';
      }
      default:
        if (record.state === 'settling') {
          await ledger.change(
            record.key,
            ['settling'],
            { state: 'unknown', detail: verdict.detail },
            'reconciler',
          );
        }
        return 'unresolved';
    }
  }
}

function transferQuery(r: LedgerRecord): TransferQuery {
  return {
    asset: r.asset as Address,
    from: r.payer as Address,
    to: r.payTo as Address,
    value: BigInt(r.amount),
    nonce: r.nonce as Hex,
    validBefore: r.validBefore,
    transaction: r.transaction,
  };
}
