/**
 * The paid records a request is answering right now, by replay key: one response at a time per
 * record. A settled payment may be served again (its own retry: a redemption; its payer's new
 * payment: a credit) and an unknown one resumed. Without this, two of those at once could each
 * serve a whole response for one settlement: the book learns of a delivery only when a response
 * has ended. In memory, for this process; the book's atomic `redeem` guards the rest.
 */
export class RecordsInUse {
  readonly #keys = new Set<string>();

  /** False when another request holds it. */
  take(key: string): boolean {
    if (this.#keys.has(key)) return false;
    this.#keys.add(key);
    return true;
  }

  release(key: string): void {
    this.#keys.delete(key);
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }
}
