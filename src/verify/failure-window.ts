/**
 * The recent verify-failure ratio, gateway-wide and per client address, over a sliding window of
 * fixed buckets: the trigger of the local signature check (local-check.ts). O(1) per verdict, a few
 * hundred bytes per client, the clients bounded by an LRU.
 */
import { LRUCache } from 'lru-cache';

/** Buckets per window: the window slides by a tenth of its length. */
const BUCKETS = 10;

/** Verdicts and failures over the last `windowMs`, in {@link BUCKETS} buckets. */
export class FailureWindow {
  readonly #bucketMs: number;
  readonly #verdicts = new Uint32Array(BUCKETS);
  readonly #failures = new Uint32Array(BUCKETS);
  /** The absolute bucket number (time / bucketMs) each slot holds; -1 = never used. */
  readonly #epoch = new Float64Array(BUCKETS).fill(-1);

  constructor(windowMs: number) {
    this.#bucketMs = Math.max(1, windowMs / BUCKETS);
  }

  record(nowMs: number, failed: boolean): void {
    const bucket = Math.floor(nowMs / this.#bucketMs);
    const slot = bucket % BUCKETS;
    if (this.#epoch[slot] !== bucket) {
      this.#epoch[slot] = bucket;
      this.#verdicts[slot] = 0;
      this.#failures[slot] = 0;
    }
    this.#verdicts[slot]! += 1;
    if (failed) this.#failures[slot]! += 1;
  }

  /** Verdicts and failures in the buckets still inside the window at `nowMs`. */
  counts(nowMs: number): { verdicts: number; failures: number } {
    const bucket = Math.floor(nowMs / this.#bucketMs);
    let verdicts = 0;
    let failures = 0;
    for (let slot = 0; slot < BUCKETS; slot++) {
      const epoch = this.#epoch[slot]!;
      if (epoch > bucket - BUCKETS && epoch <= bucket) {
        verdicts += this.#verdicts[slot]!;
        failures += this.#failures[slot]!;
      }
    }
    return { verdicts, failures };
  }
}

export interface FailureTriggerOptions {
  /** Armed while failures / verdicts is strictly above this (0 ≤ ratio < 1). */
  readonly failureRatio: number;
  readonly windowMs: number;
  /** Verdicts a window needs before its ratio counts (a lone failure arms nothing). */
  readonly minVerdicts: number;
  /** Client windows kept; the least recently seen is dropped past it. */
  readonly maxClients: number;
  /** Epoch ms (tests inject a clock). Default `Date.now`. */
  readonly now?: () => number;
}

/** Is the recent failure ratio high, gateway-wide or for this client? */
export class FailureTrigger {
  readonly #options: FailureTriggerOptions;
  readonly #now: () => number;
  readonly #all: FailureWindow;
  readonly #clients: LRUCache<string, FailureWindow>;

  constructor(options: FailureTriggerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#all = new FailureWindow(options.windowMs);
    this.#clients = new LRUCache({ max: options.maxClients });
  }

  /** One verify verdict (the facilitator's or a local refusal) for `client`. */
  record(client: string, failed: boolean): void {
    const now = this.#now();
    this.#all.record(now, failed);
    let w = this.#clients.get(client);
    if (w === undefined) {
      w = new FailureWindow(this.#options.windowMs);
      this.#clients.set(client, w);
    }
    w.record(now, failed);
  }

  /** True while the gateway-wide ratio, or `client`'s own, is above the threshold. */
  armed(client: string): boolean {
    const now = this.#now();
    if (this.#over(this.#all, now)) return true;
    const w = this.#clients.peek(client);
    return w !== undefined && this.#over(w, now);
  }

  #over(w: FailureWindow, now: number): boolean {
    const { verdicts, failures } = w.counts(now);
    return (
      verdicts >= this.#options.minVerdicts && failures > verdicts * this.#options.failureRatio
    );
  }
}
