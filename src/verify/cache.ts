/**
 * Verify-result cache on `lru-cache`, keyed by the authorization's replay key; each entry keeps the
 * digest of (raw payment header, requirement) it answers for, and only that payload hits it.
 *
 * Positive and negative verdicts live in separate slots (two LRUs of `maxEntries` each): a forged
 * payload for an authorization, refused, never evicts or overwrites the honest "valid" of the same
 * authorization, and a flood of refusals never pushes honest verdicts out.
 *
 * Every entry's TTL ends no later than the payment's own `validBefore`: a positive entry lives
 * exactly until then, a negative one for at most `negativeTtlMs`. A cached "valid" is what a replay
 * would reuse, so callers pair this cache with the replay guard (ARCHITECTURE.md, "Where the money
 * is decided"; docs/protocol.md §10).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { VerifyResponse } from '../x402/index.js';
import type { VerifyCache } from './types.js';

export interface LruVerifyCacheOptions {
  /** Max entries per slot (positive, negative); the least recently used one is evicted past it. */
  readonly maxEntries: number;
  /** TTL of a negative (`isValid: false`) entry, ms, further capped by validBefore. */
  readonly negativeTtlMs: number;
  /** Clock in epoch ms (tests inject one). Default `Date.now`. */
  readonly now?: () => number;
}

/** LRU verify cache with per-entry TTLs bounded by the payment's validity window. */
interface Entry {
  readonly digest: string;
  readonly outcome: VerifyResponse;
}

export class LruVerifyCache implements VerifyCache {
  /** `isValid: true` verdicts. */
  readonly #valid: LRUCache<string, Entry>;
  /** `isValid: false` verdicts: a slot of their own. */
  readonly #invalid: LRUCache<string, Entry>;
  readonly #negativeTtlMs: number;
  readonly #now: () => number;

  constructor(options: LruVerifyCacheOptions) {
    this.#negativeTtlMs = options.negativeTtlMs;
    this.#now = options.now ?? Date.now;
    const lru = (): LRUCache<string, Entry> =>
      new LRUCache<string, Entry>({
        max: options.maxEntries,
        // TTLs are relative, so lru-cache's own monotonic clock is fine in production. An injected
        // clock is also handed to lru-cache, and read on every staleness check (no 1 ms caching).
        ...(options.now === undefined ? {} : { perf: { now: options.now }, ttlResolution: 0 }),
      });
    this.#valid = lru();
    this.#invalid = lru();
  }

  get(key: string, digest: () => string): VerifyResponse | undefined {
    // The digest is hashed at most once, and only when the key has an entry.
    let d: string | undefined;
    const valid = this.#valid.get(key);
    if (valid !== undefined && valid.digest === (d ??= digest())) return valid.outcome;
    const invalid = this.#invalid.get(key);
    return invalid !== undefined && invalid.digest === (d ?? digest())
      ? invalid.outcome
      : undefined;
  }

  set(key: string, digest: string, outcome: VerifyResponse, validBeforeSec: number): void {
    // lru-cache drops an entry once its age EXCEEDS the ttl; the payment is already unusable AT
    // validBefore (FiatTokenV2 requires `now < validBefore`), hence the − 1.
    const untilValidBefore = validBeforeSec * 1000 - this.#now() - 1;
    const ttl = Math.floor(
      outcome.isValid ? untilValidBefore : Math.min(this.#negativeTtlMs, untilValidBefore),
    );
    if (!(ttl >= 1)) {
      // Already expired (or a nonsense validBefore): never store, and drop any older entry.
      this.delete(key);
      return;
    }
    (outcome.isValid ? this.#valid : this.#invalid).set(key, { digest, outcome }, { ttl });
  }

  delete(key: string): void {
    this.#valid.delete(key);
    this.#invalid.delete(key);
  }

  /** Number of entries held in both slots, including stale ones not yet evicted (for metrics/tests). */
  get size(): number {
    return this.#valid.size + this.#invalid.size;
  }
}

/**
 * Cache key of a verify result: sha256 (hex) of the raw payment header and the key of the
 * requirement it was matched to. A newline separates them; it cannot occur in an HTTP header
 * value, so two different pairs never hash the same input.
 */
export function verifyDigest(rawHeader: string, requirementKey: string): string {
  return createHash('sha256').update(rawHeader).update('\n').update(requirementKey).digest('hex');
}
