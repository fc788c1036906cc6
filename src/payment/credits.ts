/**
 * Credits: a settled payment whose response never went out whole is owed one response. Official
 * clients (`@x402/fetch`, `x402-fetch`) never resend a signature: after a 503 or a dropped
 * connection they sign a new payment. So the payer's next request on the same route and price is
 * served through the credit: its new payment is verified (it proves the key) but not settled, and
 * the response names the earlier settlement. A new signature never pays twice for one response.
 *
 * This index only finds candidates, in memory; the book decides. Consuming a credit is an atomic
 * redemption there (never after a delivery, at most `ledger.maxRedemptions`), so a stale entry
 * costs a refused write, never a free response. Rebuilt from the book at start-up (restore.ts).
 *
 * It also remembers a payer's `unknown` settlements on a route and price: the chain may show one
 * landed, which makes it a credit. They are looked up before a new payment of theirs is settled.
 */

import { RecordsInUse } from './in-use.js';

/** What a credit is good for: the same route, payer, and price (network, asset, payTo, amount). */
export interface CreditTerms {
  readonly route: string;
  readonly payer: string;
  readonly network: string;
  readonly asset: string;
  readonly payTo: string;
  /** Atomic units, decimal text. */
  readonly amount: string;
}

/** A settled payment owed a response. */
export interface Credit {
  /** Its record's replay key. */
  readonly key: string;
  readonly transaction: string | undefined;
  readonly network: string;
  readonly payer: string;
  /** Unix ms; the credit lapses `windowMs` later. */
  readonly settledAt: number;
}

export type CreditSource = CreditTerms & Omit<Credit, 'network' | 'payer'>;

function holderOf(t: CreditTerms): string {
  return `${t.route}\n${t.payer.toLowerCase()}\n${t.network}\n${t.asset.toLowerCase()}\n${t.payTo.toLowerCase()}\n${t.amount}`;
}

export class CreditIndex {
  /** holder → key → credit, oldest first. */
  readonly #credits = new Map<string, Map<string, Credit>>();
  /** holder → keys of unknown settlements. */
  readonly #unknown = new Map<string, Set<string>>();
  /** key → holder, for both maps. */
  readonly #holders = new Map<string, string>();
  /** Records a request is answering right now (shared with redemptions and resumes). */
  readonly #inUse: RecordsInUse;
  /** The keys this index lent out (and so must release): never a hold the recall stage took. */
  readonly #lent = new Set<string>();

  /**
   * @param windowMs a credit lapses this long after its settlement (`ledger.redeemWindowSeconds`)
   * @param options.maxEntries past this, the oldest entries go first (the payment keeps its record
   *   and its same-signature retry; only the new-payment shortcut is lost)
   * @param options.onGrant called for each new credit (the `granted` count of credits_total)
   */
  constructor(
    readonly windowMs: number,
    private readonly options: {
      readonly maxEntries?: number;
      readonly onGrant?: () => void;
      /** Shared with the recall stage, so a credit is never served while its record is. */
      readonly inUse?: RecordsInUse;
    } = {},
  ) {
    this.#inUse = options.inUse ?? new RecordsInUse();
  }

  /** True when nothing is owed and nothing unknown: the paid path's only cost then. */
  get empty(): boolean {
    return this.#holders.size === 0;
  }

  get size(): number {
    return this.#holders.size;
  }

  /** A settled payment's response did not go out whole: it is owed one. */
  grant(source: CreditSource): void {
    const holder = holderOf(source);
    this.#forgetUnknown(source.key);
    let credits = this.#credits.get(holder);
    if (credits === undefined) this.#credits.set(holder, (credits = new Map<string, Credit>()));
    if (!credits.has(source.key)) this.options.onGrant?.();
    credits.set(source.key, {
      key: source.key,
      transaction: source.transaction,
      network: source.network,
      payer: source.payer,
      settledAt: source.settledAt,
    });
    this.#holders.set(source.key, holder);
    this.#bound();
  }

  /** A settlement of these terms is unknown: if the chain shows it landed, it becomes a credit. */
  addUnknown(terms: CreditTerms, key: string): void {
    if (this.#holders.has(key)) return;
    const holder = holderOf(terms);
    let keys = this.#unknown.get(holder);
    if (keys === undefined) this.#unknown.set(holder, (keys = new Set<string>()));
    keys.add(key);
    this.#holders.set(key, holder);
    this.#bound();
  }

  /** The unknown settlements these terms could be credited from (oldest first). */
  unknownOf(terms: CreditTerms): readonly string[] {
    if (this.#unknown.size === 0) return [];
    const keys = this.#unknown.get(holderOf(terms));
    return keys === undefined ? [] : [...keys];
  }

  /**
   * The oldest credit for these terms that is in its window and that no request is answering (a
   * credit, a redemption, a resume), marked in use until `giveBack` or `spend`. Lapsed ones are
   * dropped on the way.
   */
  take(terms: CreditTerms, nowMs: number): Credit | undefined {
    if (this.#credits.size === 0) return undefined;
    const credits = this.#credits.get(holderOf(terms));
    if (credits === undefined) return undefined;
    for (const credit of credits.values()) {
      if (nowMs - credit.settledAt > this.windowMs) {
        this.spend(credit.key);
        continue;
      }
      if (!this.#inUse.take(credit.key)) continue;
      this.#lent.add(credit.key);
      return credit;
    }
    return undefined;
  }

  /** Its response did not go out whole either: still owed. */
  giveBack(key: string): void {
    this.#return(key);
  }

  /** Delivered, exhausted, lapsed, or refused by the book: owed nothing more. */
  spend(key: string): void {
    this.#return(key);
    const holder = this.#holders.get(key);
    if (holder === undefined) return;
    const credits = this.#credits.get(holder);
    if (credits?.delete(key) === true && credits.size === 0) this.#credits.delete(holder);
    this.#forgetUnknown(key);
    this.#holders.delete(key);
  }

  /** An unknown settlement ended some other way (failed, resolved by hand): nothing to credit. */
  forget(key: string): void {
    if (this.#forgetUnknown(key)) this.#holders.delete(key);
  }

  #return(key: string): void {
    if (this.#lent.delete(key)) this.#inUse.release(key);
  }

  #forgetUnknown(key: string): boolean {
    const holder = this.#holders.get(key);
    if (holder === undefined) return false;
    const keys = this.#unknown.get(holder);
    if (keys?.delete(key) !== true) return false;
    if (keys.size === 0) this.#unknown.delete(holder);
    return true;
  }

  #bound(): void {
    const max = this.options.maxEntries ?? 100_000;
    while (this.#holders.size > max) {
      const oldest = this.#holders.keys().next();
      if (oldest.done === true) return;
      this.spend(oldest.value);
    }
  }
}
