/**
 * Which authorizations the book may have to answer for on a retry, by nonce: payments whose
 * settlement is unknown, and settled ones not yet delivered. A retry is looked up here right after
 * its header is decoded, before any check that could turn it into a "pay again" 402 (the time
 * window, today's price table). A miss, nearly every request, costs one map lookup; a hit reads
 * the record from the ledger.
 *
 * Bounded: past `maxEntries` the oldest entries go first. One that went is still guarded by the
 * replay guard and the reconciler; only its retry loses the record's answer.
 */
export class RecallIndex {
  readonly #byNonce = new Map<string, string>();

  constructor(readonly maxEntries = 100_000) {}

  add(nonce: string, key: string): void {
    const n = nonce.toLowerCase();
    this.#byNonce.delete(n);
    this.#byNonce.set(n, key);
    if (this.#byNonce.size > this.maxEntries) {
      const oldest = this.#byNonce.keys().next();
      if (oldest.done !== true) this.#byNonce.delete(oldest.value);
    }
  }

  delete(nonce: string): void {
    this.#byNonce.delete(nonce.toLowerCase());
  }

  /** The replay key of a record to recall, if this nonce has one. */
  lookup(nonce: string): string | undefined {
    if (this.#byNonce.size === 0) return undefined;
    return this.#byNonce.get(nonce.toLowerCase());
  }

  get size(): number {
    return this.#byNonce.size;
  }
}
