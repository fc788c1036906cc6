/**
 * The request path's config, swappable between requests. Each request takes the current
 * generation when it arrives and keeps it to its end (its settlement included), so a reload never
 * changes a price, a facilitator or a timeout under a request in flight: requests in flight finish
 * on the old generation, new ones see the new. A retired generation's own parts (a facilitator
 * client or a forwarder the new one replaced) are released once its last request has ended.
 */
import type { Deps } from './deps.js';

export class Generation {
  /** Requests using this generation now. */
  active = 0;
  #retired: (() => void) | undefined = undefined;
  #released = false;

  constructor(readonly deps: Deps) {}

  /** One request ended; the last one out of a retired generation releases its parts. */
  leave(): void {
    if (--this.active === 0 && this.#retired !== undefined) this.#release();
  }

  /** No new request will take this generation; `release` runs once none is left on it. */
  retire(release: () => void): void {
    this.#retired = release;
    if (this.active === 0) this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#retired?.();
  }
}

/** Where the handler finds the generation a new request takes. */
export class Generations {
  #current: Generation;

  constructor(deps: Deps) {
    this.#current = new Generation(deps);
  }

  get current(): Generation {
    return this.#current;
  }

  /** New requests take `deps` from now; `release` runs once the old generation's last request ends. */
  swap(deps: Deps, release: () => void): void {
    const old = this.#current;
    this.#current = new Generation(deps);
    old.retire(release);
  }
}
