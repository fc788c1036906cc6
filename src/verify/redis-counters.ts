/**
 * Counters a fleet shares on Redis (`store.redis`), for the rate limits' background sync
 * (pipeline/rate-limits.ts): add a batch of counts to their keys and read back each total, in one
 * pipelined round trip (INCRBY and PEXPIRE per key). Never on a request's path.
 *
 * Its own connection, not the replay guard's: a sync of thousands of keys must not queue in front
 * of a payment's claim. Like the replay guard, it never waits for a connection (no offline queue)
 * and bounds every command by `commandTimeoutMs`; unlike it, a failure here refuses nothing: the
 * caller keeps limiting on its own counts (limits fail open).
 */
import type { Redis } from 'ioredis';
import { createRedisClient } from './redis-client.js';
import { redactUrl } from './redis-replay.js';

export interface RedisCountersOptions {
  readonly url: string;
  /** Prepended to every key (the store's prefix plus `ratelimit:`). */
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  /** Connection deadline of one attempt, ms. Default 2000. */
  readonly connectTimeoutMs?: number;
}

export class RedisCounters {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #url: string;
  #closed = false;

  constructor(options: RedisCountersOptions) {
    this.#prefix = options.keyPrefix;
    this.#url = options.url;
    this.#redis = createRedisClient({
      url: options.url,
      commandTimeoutMs: options.commandTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      closed: () => this.#closed,
    });
    // Failures are the caller's to count (each sync reports its result); no unhandled 'error'.
    this.#redis.on('error', () => undefined);
  }

  /** Where it connects, without credentials. */
  get location(): string {
    return redactUrl(this.#url);
  }

  /**
   * Start connecting: resolves true once connected, false if the first attempt failed (the client
   * keeps trying on its own; a sync before the connection is up just fails). Never rejects.
   */
  connect(): Promise<boolean> {
    return this.#redis.connect().then(
      () => true,
      () => false,
    );
  }

  async add(keys: readonly string[], counts: readonly number[], ttlMs: number): Promise<number[]> {
    const pipeline = this.#redis.pipeline();
    for (let i = 0; i < keys.length; i++) {
      const key = this.#prefix + keys[i]!;
      pipeline.incrby(key, counts[i]!);
      pipeline.pexpire(key, ttlMs);
    }
    const replies = await pipeline.exec();
    if (replies === null) throw new Error('redis pipeline aborted');
    const totals: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const [error, value] = replies[2 * i]!;
      if (error !== null) throw error;
      totals.push(Number(value));
    }
    return totals;
  }

  async close(): Promise<void> {
    this.#closed = true;
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect(false);
    }
  }
}
