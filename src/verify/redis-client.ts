/**
 * The ioredis client every shared-store connection uses (replay claims, rate-limit counters): it
 * never waits for a connection (no offline queue: a command while disconnected fails at once),
 * never sends a command twice (its caller has already answered), bounds each command by
 * `commandTimeoutMs`, and reconnects by itself for ever, 50 ms doubling to 2 s with jitter (a fleet
 * must not reconnect in step). `redis://…`, `rediss://…` (TLS) or `unix:///path/redis.sock`.
 */
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisClientOptions {
  readonly url: string;
  /** Deadline of one command, ms. */
  readonly commandTimeoutMs: number;
  /** Connection deadline of one attempt, ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** True once the owner has closed it: no more reconnection attempts. */
  readonly closed: () => boolean;
}

/** A lazily connected client: call `connect()` when ready to fail on an unreachable Redis. */
export function createRedisClient(options: RedisClientOptions): Redis {
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: options.connectTimeoutMs ?? 2_000,
    retryStrategy: (times) =>
      options.closed() ? null : Math.min(2_000, 50 * 2 ** Math.min(times, 6)) + Math.random() * 100,
  };
  return options.url.startsWith('unix:')
    ? new Redis({ ...redisOptions, path: new URL(options.url).pathname })
    : new Redis(options.url, redisOptions);
}
