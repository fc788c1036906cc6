/**
 * The rate limits (`rateLimits`): three token-bucket tables (token-buckets.ts), bounded in memory.
 *
 * - challenges, per client address (client-address.ts's key): a request without a payment on a
 *   priced route takes a token before its 402 is rendered; none left → 429. Only such requests:
 *   a request carrying a payment never meets this limit.
 * - client failures, per client address: each failed payment attempt (a malformed header, a
 *   refused or replayed payment, a declined settlement) spends a token; a client with none left is
 *   refused its next payment before anything is checked or sent to the facilitator.
 * - payer failures, per payer address: only failures the payer's own key must have caused, so that
 *   nobody can lock a payer out by writing its address in `from`: a payer-caused verify refusal of a
 *   signature that recovers to `from`, or a settlement declined after the facilitator verified the
 *   payment. Checked before claim and verify: a payer over it costs no facilitator call.
 *
 * Free routes never reach any of them, and a paid request that passes costs two Map lookups that
 * miss (the failure tables hold only addresses that failed).
 *
 * With `store.redis`, each instance pushes its tables' spends every `syncIntervalMs` into per-window
 * counters in Redis (one pipelined INCRBY per key that spent, never a round trip per request), and
 * takes what the rest of the fleet spent out of its own buckets (TokenBuckets.applyTotals). When
 * Redis cannot answer, the push is dropped and each instance limits on its own counts: limits fail
 * open, while payments keep failing closed on the replay store.
 */
import type { RateLimitsConfig } from '../config/index.js';
import type { RateLimitName } from '../metrics/index.js';
import { TokenBuckets, type BucketLimit, type PendingSpends } from './token-buckets.js';

/** The fleet's counters (the shared store): add counts to keys, answer each key's new total. */
export interface FleetCounters {
  add(keys: readonly string[], counts: readonly number[], ttlMs: number): Promise<number[]>;
}

/** Length of a fleet counter's window, ms: the others' spends are counted within one. */
export const SYNC_WINDOW_MS = 60_000;
/** Keys pushed per limit and sync at most (the rest wait for the next one). */
export const MAX_KEYS_PER_SYNC = 10_000;

/** One refusal logged per limit and this long; the metric counts every one. */
const LOG_EVERY_MS = 1_000;

export interface RateLimitsOptions {
  /** Epoch ms (tests inject a clock). Default Date.now. */
  readonly now?: () => number;
}

export class RateLimits {
  #enabled: boolean;
  readonly #now: () => number;
  readonly #tables: Readonly<Record<RateLimitName, TokenBuckets>>;
  #timer: NodeJS.Timeout | undefined;
  readonly #lastLogged: Record<RateLimitName, number> = {
    challenges: -Infinity,
    client_failures: -Infinity,
    payer_failures: -Infinity,
  };
  #syncing: Promise<void> | undefined;

  constructor(config: RateLimitsConfig, options: RateLimitsOptions = {}) {
    this.#enabled = config.enabled;
    this.#now = options.now ?? Date.now;
    const limits = limitsOf(config);
    const table = (limit: BucketLimit): TokenBuckets =>
      new TokenBuckets({ maxKeys: config.maxTrackedAddresses, limit, now: this.#now });
    this.#tables = {
      challenges: table(limits.challenges),
      client_failures: table(limits.client_failures),
      payer_failures: table(limits.payer_failures),
    };
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** A reload: new rates and sizes, or on/off. What the tables hold stays. */
  configure(config: RateLimitsConfig): void {
    this.#enabled = config.enabled;
    const limits = limitsOf(config);
    for (const name of NAMES) this.#tables[name].setLimit(limits[name]);
  }

  /** A 402 challenge for `client`: 0 when it may have one, else Retry-After seconds. */
  challenge(client: string): number {
    return this.#enabled ? this.#tables.challenges.take(client) : 0;
  }

  /** May `client` attempt a payment? 0 yes, else Retry-After seconds. */
  clientWait(client: string): number {
    return this.#enabled ? this.#tables.client_failures.wait(client) : 0;
  }

  /** May `payer` attempt a payment? 0 yes, else Retry-After seconds. */
  payerWait(payer: string): number {
    return this.#enabled ? this.#tables.payer_failures.wait(payerKey(payer)) : 0;
  }

  /** A failed payment attempt from `client`. */
  clientFailed(client: string): void {
    if (this.#enabled && client !== '') this.#tables.client_failures.spend(client);
  }

  /** A failure `payer`'s own key caused (see the file comment for what counts). */
  payerFailed(payer: string): void {
    if (this.#enabled) this.#tables.payer_failures.spend(payerKey(payer));
  }

  /** Log this refusal? At most one line a second per limit: a flood must not flood the log. */
  shouldLog(limit: RateLimitName): boolean {
    const now = this.#now();
    if (now - this.#lastLogged[limit] < LOG_EVERY_MS) return false;
    this.#lastLogged[limit] = now;
    return true;
  }

  /** Addresses `limit` remembers now. */
  tracked(limit: RateLimitName): number {
    return this.#tables[limit].size;
  }

  /** Tokens `key` has under `limit` (tests and diagnostics). */
  tokens(limit: RateLimitName, key: string): number {
    return this.#tables[limit].tokens(limit === 'payer_failures' ? payerKey(key) : key);
  }

  /**
   * Push the spends made since the last sync to the fleet and take the others' out of the local
   * buckets. Resolves whether or not the store answered (`onResult` says which); one at a time.
   */
  sync(fleet: FleetCounters, onResult?: (ok: boolean, error?: unknown) => void): Promise<void> {
    this.#syncing ??= this.#syncOnce(fleet, onResult).finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  /** Sync every `intervalMs` until {@link stopSync}. */
  startSync(
    fleet: FleetCounters,
    intervalMs: number,
    onResult?: (ok: boolean, error?: unknown) => void,
  ): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => void this.sync(fleet, onResult), intervalMs);
    this.#timer.unref();
  }

  /** Stop the timer and wait for a sync under way. */
  async stopSync(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#syncing;
  }

  async #syncOnce(
    fleet: FleetCounters,
    onResult: ((ok: boolean, error?: unknown) => void) | undefined,
  ): Promise<void> {
    const window = Math.floor(this.#now() / SYNC_WINDOW_MS);
    const drained: Array<[TokenBuckets, PendingSpends]> = [];
    const keys: string[] = [];
    const counts: number[] = [];
    for (const name of NAMES) {
      const table = this.#tables[name];
      const spends = table.drain(window, MAX_KEYS_PER_SYNC);
      if (spends.keys.length === 0) continue;
      drained.push([table, spends]);
      for (let i = 0; i < spends.keys.length; i++) {
        keys.push(`${name}:${window}:${spends.keys[i]!}`);
        counts.push(spends.counts[i]!);
      }
    }
    if (keys.length === 0) return;
    let totals: number[];
    try {
      totals = await fleet.add(keys, counts, 2 * SYNC_WINDOW_MS);
    } catch (error) {
      // Fail open: the counts stay this instance's own; the fleet never saw them.
      for (const [table, spends] of drained) table.undrain(spends);
      onResult?.(false, error);
      return;
    }
    let at = 0;
    for (const [table, spends] of drained) {
      table.applyTotals(spends, totals.slice(at, at + spends.keys.length));
      at += spends.keys.length;
    }
    onResult?.(true);
  }
}

const NAMES: readonly RateLimitName[] = ['challenges', 'client_failures', 'payer_failures'];

/** A payer's key: its address lower-cased (one payer, however the client spells it). */
function payerKey(payer: string): string {
  return payer.toLowerCase();
}

function limitsOf(config: RateLimitsConfig): Record<RateLimitName, BucketLimit> {
  const failures = config.failuresPerMinute;
  return {
    challenges: {
      ratePerSec: config.challengesPerSecond.perClient,
      burst: config.challengesPerSecond.burst,
    },
    // N a minute: a minute's worth at once, then one every 60/N s.
    client_failures: { ratePerSec: failures.perClient / 60, burst: failures.perClient },
    payer_failures: { ratePerSec: failures.perPayer / 60, burst: failures.perPayer },
  };
}
