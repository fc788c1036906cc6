/**
 * Replay guard on a shared Redis (`store: { redis: { url } }`): every gateway of a fleet claims an
 * authorization `(chainId, asset, from, nonce)` in one place, so one payment is served and settled
 * once whichever instance each copy of it reaches.
 *
 * One hash per key (`<prefix><replay key>`), expiring with the record (validBefore + margin, PEXPIREAT):
 *   s  state: i in-flight (fresh claim, nothing sent), r resumed in-flight (a pending settlement
 *      taken over), g settling (a settle request may have been sent), p pending (outcome unknown),
 *      d settled (spent)
 *   o  the owner: a token of the instance and claim that holds it (i, r, g; d while one serves it)
 *   l  the owner's lease, epoch ms of Redis' own clock (i, r, g; d while one serves it)
 *   h  the payload's digest (recorded at the claim: one round trip, no second look)
 *   t  the settlement's tx hash, once one is known
 *
 * Every operation is one Lua script, so each is atomic across the fleet:
 *   claim    absent → i (claimed). d with a live lease (being served) → used; d without one →
 *            spent (used, and nobody serves it: the book may still owe its retry a response).
 *            A live lease → used. p, or r/g whose lease lapsed
 *            (its holder is presumed dead, and a settle request may have left): the same digest
 *            resumes it (r, with the tx hash), another is used. i whose lease lapsed (its holder
 *            died before settling: nothing was sent) → taken over as a fresh claim.
 *   settling owner-checked i/r → g, lease renewed for the settle phase; false when this claim was
 *            taken over (or the store cannot answer): then no settle request may be sent.
 *   release  owner-checked: i/g → deleted; r → p (a resumed settlement is never forgotten).
 *   pending  owner-checked for i/r/g → p with digest and tx (a known tx hash is kept); p and d → p
 *            as the in-memory guard does (settled in doubt); another holder's claim keeps its
 *            state, and only learns a tx hash it did not have.
 *   settled  unconditional → d (terminal: the money moved, every later claim is used); an absent
 *            record this guard claimed is written again until its expiry. The holder of the claim
 *            that settles and will serve it keeps it (owner and a serve lease) until `served`.
 *   hold     a settled (or pending) record a request is about to serve again (a redemption, a
 *            credit): taken when no live lease holds it (→ d with this owner), else busy. One
 *            response at a time per record across the fleet: a retry on one instance cannot redeem
 *            a settlement another instance is streaming.
 *   served   owner-checked: the response has ended and its book writes are durable; the record
 *            stays d, unowned. While a record is served its lease is renewed every third of it.
 *            Sent only for a response that did not go out whole (its retry may be owed one): a
 *            whole one's hold is left to lapse, one round trip fewer per paid request.
 * The lease of a claim covers verify + upstream + margin; `settling` renews it for the settle
 * phase + margin. A takeover of a lapsed `settling` lease is always a resume (Payment: no verify,
 * and a settle answer that is not a success is decided by the chain), never a fresh settlement.
 *
 * Deadlines: every command is bounded by `commandTimeoutMs`; while disconnected a command fails at
 * once (no offline queue), so a claim answers `unavailable` (503) and never hangs. Commands are
 * never re-sent after a reconnection (their caller already answered). The client reconnects by
 * itself with capped exponential backoff. A claim that timed out may still run later: an
 * owner-checked undo follows it on the same connection, so it cannot block the client's retry.
 * release/pending/settled never reject: a failure is counted and logged, and the record is left to
 * its lease (a claim lapses and may be taken over; a settling one is then resumed, never settled
 * afresh).
 *
 * `size()` counts the claims this instance holds right now (claimed or resumed, and not yet
 * released, pending or settled): a local counter, not the records in Redis (a fleet-wide count
 * would cost a round trip, and nothing on the request path reads it).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedisClient } from './redis-client.js';
import type { StoreFailure } from '../metrics/index.js';
import type { ClaimOutcome, ReplayGuard } from './types.js';

/**
 * Why a store command failed: the `kind` label of `x402_gateway_store_errors_total`. The metric
 * owns the list (it starts a series at 0 for each kind), so a kind added here cannot go uncounted.
 */
export type StoreErrorKind = StoreFailure;

export interface RedisReplayGuardOptions {
  /** `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS) or `unix:///path/redis.sock`. */
  readonly url: string;
  /** Prepended to every key. Default `x402:replay:`. */
  readonly keyPrefix?: string;
  /** Deadline of one command, ms: past it the call answers `unavailable`. */
  readonly commandTimeoutMs: number;
  /** A fresh claim's lease, ms (verify + upstream + margin): past it another instance may take it over. */
  readonly claimLeaseMs: number;
  /** The lease renewed when a settle request is about to leave, ms (settle phase + margin). */
  readonly settleLeaseMs: number;
  /**
   * The lease of a record being served (a settled payment's response, a redemption, a credit), ms;
   * renewed every third of it while the response lasts. Default: settleLeaseMs.
   */
  readonly serveLeaseMs?: number;
  /** Connection deadline of one attempt, ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** Each failed command, counted by kind (never throws). */
  readonly onError?: (kind: StoreErrorKind, operation: string, error: Error) => void;
}

/** Redis' own settings that decide whether claims survive (checked at start-up). */
export interface StoreSettings {
  /** Claims could be evicted under memory pressure: refuse to start. */
  readonly refuse: string | undefined;
  /** Worth an operator's look (no AOF, settings unreadable). */
  readonly warnings: readonly string[];
  /** One line for the log and readiness, e.g. `maxmemory-policy noeviction, appendonly yes`. */
  readonly summary: string;
}

const DEFAULT_PREFIX = 'x402:replay:';

// Redis' clock in ms, so leases mean the same on every instance whatever their clocks say.
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1]; ARGV: owner, digest, expiresAtMs, leaseMs. → {outcome, tx} */
const CLAIM = `${NOW}
local k = KEYS[1]
local r = redis.call('HMGET', k, 's', 'h', 't', 'l')
local s = r[1]
local lease = now + tonumber(ARGV[4])
if not s then
  redis.call('HSET', k, 's', 'i', 'o', ARGV[1], 'h', ARGV[2], 'l', lease)
  redis.call('PEXPIREAT', k, ARGV[3])
  return {'claimed', ''}
end
if s == 'd' then
  if tonumber(r[4] or '0') > now then return {'used', ''} end
  return {'spent', ''}
end
if s ~= 'p' and tonumber(r[4] or '0') > now then return {'used', ''} end
if s == 'i' then
  redis.call('HSET', k, 's', 'i', 'o', ARGV[1], 'h', ARGV[2], 'l', lease)
  redis.call('HDEL', k, 't')
  redis.call('PEXPIREAT', k, ARGV[3])
  return {'claimed', ''}
end
if r[2] ~= ARGV[2] then return {'used', ''} end
redis.call('HSET', k, 's', 'r', 'o', ARGV[1], 'l', lease)
return {'resumed', r[3] or ''}`;

/** KEYS[1]; ARGV: owner, leaseMs. → 1 held (now settling), 0 lost */
const SETTLING = `${NOW}
local k = KEYS[1]
local r = redis.call('HMGET', k, 's', 'o')
if r[2] ~= ARGV[1] or (r[1] ~= 'i' and r[1] ~= 'r' and r[1] ~= 'g') then return 0 end
redis.call('HSET', k, 's', 'g', 'l', now + tonumber(ARGV[2]))
return 1`;

/** KEYS[1]; ARGV: owner. Also the undo of a claim that timed out. */
const RELEASE = `
local k = KEYS[1]
local r = redis.call('HMGET', k, 's', 'o')
if r[2] ~= ARGV[1] then return 0 end
if r[1] == 'r' then
  redis.call('HSET', k, 's', 'p')
  redis.call('HDEL', k, 'o', 'l')
  return 2
end
if r[1] == 'i' or r[1] == 'g' then
  redis.call('DEL', k)
  return 1
end
return 0`;

/** KEYS[1]; ARGV: owner, tx ('' for none), digest. */
const PENDING = `
local k = KEYS[1]
local r = redis.call('HMGET', k, 's', 'o', 't')
local s = r[1]
if not s then return 0 end
if s == 'p' or s == 'd' or r[2] == ARGV[1] then
  redis.call('HSET', k, 's', 'p', 'h', ARGV[3])
  redis.call('HDEL', k, 'o', 'l')
  if ARGV[2] ~= '' then redis.call('HSET', k, 't', ARGV[2]) end
  return 1
end
if ARGV[2] ~= '' and not r[3] then redis.call('HSET', k, 't', ARGV[2]) end
return 0`;

/**
 * KEYS[1]; ARGV: tx, expiresAtMs ('0': not known here), owner ('' : none), serveLeaseMs ('0': not
 * serving). The owner keeps a claim it holds, leased, when it goes on to serve the response.
 */
const SETTLED = `${NOW}
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then
  if ARGV[2] == '0' then return 0 end
  redis.call('HSET', k, 's', 'd', 't', ARGV[1])
  if ARGV[4] ~= '0' and ARGV[3] ~= '' then
    redis.call('HSET', k, 'o', ARGV[3], 'l', now + tonumber(ARGV[4]))
  end
  redis.call('PEXPIREAT', k, ARGV[2])
  return 1
end
redis.call('HSET', k, 's', 'd', 't', ARGV[1])
if ARGV[4] ~= '0' and ARGV[3] ~= '' and redis.call('HGET', k, 'o') == ARGV[3] then
  redis.call('HSET', k, 'l', now + tonumber(ARGV[4]))
  return 1
end
redis.call('HDEL', k, 'o', 'l')
return 1`;

/** KEYS[1]; ARGV: owner, leaseMs, expiresAtMs. → 1 held, 0 busy (another live holder) */
const HOLD = `${NOW}
local k = KEYS[1]
local r = redis.call('HMGET', k, 's', 'o', 'l')
if r[1] and r[2] ~= ARGV[1] and tonumber(r[3] or '0') > now then return 0 end
redis.call('HSET', k, 's', 'd', 'o', ARGV[1], 'l', now + tonumber(ARGV[2]))
if not r[1] then redis.call('PEXPIREAT', k, ARGV[3]) end
return 1`;

/** KEYS[1]; ARGV: owner, leaseMs. → 1 renewed, 0 no longer this owner's */
const RENEW = `${NOW}
local k = KEYS[1]
if redis.call('HGET', k, 'o') ~= ARGV[1] then return 0 end
redis.call('HSET', k, 'l', now + tonumber(ARGV[2]))
return 1`;

/** KEYS[1]; ARGV: owner. The response ended: the record stays, unowned. */
const SERVED = `
local k = KEYS[1]
if redis.call('HGET', k, 'o') ~= ARGV[1] then return 0 end
redis.call('HDEL', k, 'o', 'l')
return 1`;

interface Scripts {
  x402Claim(key: string, ...args: (string | number)[]): Promise<[string, string]>;
  x402Settling(key: string, ...args: (string | number)[]): Promise<number>;
  x402Release(key: string, owner: string): Promise<number>;
  x402Pending(key: string, ...args: string[]): Promise<number>;
  x402Settled(key: string, ...args: (string | number)[]): Promise<number>;
  x402Hold(key: string, ...args: (string | number)[]): Promise<number>;
  x402Renew(key: string, ...args: (string | number)[]): Promise<number>;
  x402Served(key: string, owner: string): Promise<number>;
}

interface Held {
  readonly owner: string;
  readonly expiresAtMs: number;
}

const USED: ClaimOutcome = Object.freeze({ kind: 'used' });
const SPENT: ClaimOutcome = Object.freeze({ kind: 'used', spent: true });
const CLAIMED: ClaimOutcome = Object.freeze({ kind: 'claimed' });
const UNAVAILABLE: ClaimOutcome = Object.freeze({ kind: 'unavailable' });

/** Interval of the health probe (a PING bounded by the command deadline), ms. */
const PROBE_MS = 1_000;

/** What the readiness check says. */
export interface StoreHealth {
  readonly ok: boolean;
  readonly detail: string;
}

export class RedisReplayGuard implements ReplayGuard {
  readonly #redis: Redis & Scripts;
  readonly #prefix: string;
  readonly #options: RedisReplayGuardOptions;
  /** The claims this instance holds, by replay key: their owner token and expiry. */
  readonly #held = new Map<string, Held>();
  /** The records this instance is serving (settled by it, or held for a redemption): their owner. */
  readonly #serving = new Map<string, string>();
  #renewal: NodeJS.Timeout | undefined;
  /** Owner tokens: this process's random id and a counter. */
  readonly #instance = randomBytes(6).toString('hex');
  #sequence = 0;
  /** The last command outcome: a failure not followed by a success makes the store unready. */
  #lastFailure: { kind: StoreErrorKind; message: string; at: number } | undefined;
  #lastSuccessAt = 0;
  #probe: NodeJS.Timeout | undefined;
  #settings = '';
  #closed = false;

  constructor(options: RedisReplayGuardOptions) {
    this.#options = options;
    this.#prefix = options.keyPrefix ?? DEFAULT_PREFIX;
    this.#redis = createRedisClient({
      url: options.url,
      commandTimeoutMs: options.commandTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs,
      closed: () => this.#closed,
    }) as Redis & Scripts;
    // Without a listener ioredis prints every connection error; they are counted instead.
    this.#redis.on('error', (err: Error) => this.#failed('connection', 'connection', err));
    this.#redis.defineCommand('x402Claim', { numberOfKeys: 1, lua: CLAIM });
    this.#redis.defineCommand('x402Settling', { numberOfKeys: 1, lua: SETTLING });
    this.#redis.defineCommand('x402Release', { numberOfKeys: 1, lua: RELEASE });
    this.#redis.defineCommand('x402Pending', { numberOfKeys: 1, lua: PENDING });
    this.#redis.defineCommand('x402Settled', { numberOfKeys: 1, lua: SETTLED });
    this.#redis.defineCommand('x402Hold', { numberOfKeys: 1, lua: HOLD });
    this.#redis.defineCommand('x402Renew', { numberOfKeys: 1, lua: RENEW });
    this.#redis.defineCommand('x402Served', { numberOfKeys: 1, lua: SERVED });
  }

  get #serveLeaseMs(): number {
    return Math.ceil(this.#options.serveLeaseMs ?? this.#options.settleLeaseMs);
  }

  /** Where it connects, without credentials (for logs and readiness). */
  get location(): string {
    return redactUrl(this.#options.url);
  }

  /**
   * Connect (one bounded attempt; the client keeps reconnecting on its own afterwards) and start
   * the health probe. Rejects with a clear message when Redis cannot be reached.
   */
  async connect(): Promise<void> {
    try {
      await this.#redis.connect();
      await this.#redis.ping();
      this.#lastSuccessAt = Date.now();
    } catch (err) {
      this.#redis.disconnect(false);
      throw new Error(
        `store.redis: cannot reach ${this.location}: ${(err as Error).message}. Paid requests need it (docs/operations.md, "Shared store (Redis)")`,
        { cause: err },
      );
    }
    this.#probe = setInterval(() => void this.#ping(), PROBE_MS);
    this.#probe.unref();
  }

  /**
   * Read `maxmemory`, `maxmemory-policy` and `appendonly`. Claims must never be evicted: a policy
   * that evicts (anything but `noeviction`) with a memory limit set is a refusal.
   */
  async checkSettings(): Promise<StoreSettings> {
    let values: Record<string, string>;
    try {
      const read = async (name: string): Promise<string | undefined> => {
        const reply = await this.#redis.config('GET', name);
        return reply[1];
      };
      values = {
        maxmemory: (await read('maxmemory')) ?? '?',
        'maxmemory-policy': (await read('maxmemory-policy')) ?? '?',
        appendonly: (await read('appendonly')) ?? '?',
      };
    } catch (err) {
      this.#settings = 'settings unreadable';
      return {
        refuse: undefined,
        warnings: [
          `cannot read CONFIG (${(err as Error).message}): make sure maxmemory-policy is noeviction (or maxmemory 0) and appendonly is yes`,
        ],
        summary: this.#settings,
      };
    }
    const policy = values['maxmemory-policy']!;
    const limited = values.maxmemory !== '0';
    const warnings: string[] = [];
    let refuse: string | undefined;
    if (policy !== 'noeviction' && limited) {
      refuse = `Redis evicts keys under memory pressure (maxmemory ${values.maxmemory}, maxmemory-policy ${policy}): a replay claim could vanish and a payment be served twice. Set maxmemory-policy noeviction, or use a Redis of its own for the claims`;
    } else if (policy !== 'noeviction') {
      warnings.push(
        `maxmemory-policy is ${policy}: harmless while maxmemory is 0, but claims would be evicted if a limit is set; set noeviction`,
      );
    }
    if (values.appendonly !== 'yes') {
      warnings.push(
        'appendonly is no: a Redis restart forgets every claim (settled ones are still refused by the chain, pending ones are answered from the ledger by the instance that holds them); set appendonly yes',
      );
    }
    this.#settings = `maxmemory-policy ${policy}, appendonly ${values.appendonly}`;
    return { refuse, warnings, summary: this.#settings };
  }

  /** Stop probing and close the connection (pending commands end with an error). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#probe);
    clearInterval(this.#renewal);
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect(false);
    }
  }

  /** For the `replay store` readiness check (paid): connected, and the last command answered. */
  health(): StoreHealth {
    const status = this.#redis.status;
    if (status !== 'ready') {
      const why = this.#lastFailure === undefined ? '' : `: ${this.#lastFailure.message}`;
      return { ok: false, detail: `redis at ${this.location} ${status}${why}` };
    }
    const failure = this.#lastFailure;
    if (failure !== undefined && failure.at >= this.#lastSuccessAt) {
      return {
        ok: false,
        detail: `redis at ${this.location} failing (${failure.kind}): ${failure.message}`,
      };
    }
    const settings = this.#settings === '' ? '' : ` (${this.#settings})`;
    return { ok: true, detail: `redis at ${this.location}${settings}` };
  }

  claim(key: string, digest: () => string, expiresAtMs: number): Promise<ClaimOutcome> {
    const owner = `${this.#instance}:${(++this.#sequence).toString(36)}`;
    const redisKey = this.#prefix + key;
    return this.#redis
      .x402Claim(
        redisKey,
        owner,
        digest(),
        Math.ceil(expiresAtMs),
        Math.ceil(this.#options.claimLeaseMs),
      )
      .then(
        ([outcome, tx]) => {
          this.#ok();
          if (outcome === 'used') return USED;
          if (outcome === 'spent') return SPENT;
          this.#held.set(key, { owner, expiresAtMs: Math.ceil(expiresAtMs) });
          return outcome === 'claimed'
            ? CLAIMED
            : { kind: 'resumed' as const, transaction: tx || undefined };
        },
        (err: Error) => {
          const kind = this.#failed(classify(err), 'claim', err);
          // It may still run (a slow Redis answers later): undo it if it did, behind it on the same
          // connection, so a claim nobody holds does not block the retry until its lease lapses.
          if (kind === 'timeout') {
            this.#redis.x402Release(redisKey, owner).catch(() => undefined);
          }
          return UNAVAILABLE;
        },
      );
  }

  /**
   * A settle request is about to leave: true when this guard still holds the claim (now marked
   * settling, its lease renewed for the settle phase); false when it was taken over or the store
   * cannot answer, and then nothing may be sent.
   */
  async settling(key: string): Promise<boolean> {
    const held = this.#held.get(key);
    if (held === undefined) return false;
    try {
      const answered = await this.#redis.x402Settling(
        this.#prefix + key,
        held.owner,
        Math.ceil(this.#options.settleLeaseMs),
      );
      this.#ok();
      return answered === 1;
    } catch (err) {
      this.#failed(classify(err as Error), 'settling', err as Error);
      return false;
    }
  }

  async release(key: string): Promise<void> {
    const held = this.#held.get(key);
    if (held === undefined) return;
    this.#held.delete(key);
    await this.#run('release', () => this.#redis.x402Release(this.#prefix + key, held.owner));
  }

  async markPending(key: string, transaction: string | undefined, digest: string): Promise<void> {
    const held = this.#held.get(key);
    this.#held.delete(key);
    await this.#run('pending', () =>
      this.#redis.x402Pending(this.#prefix + key, held?.owner ?? '', transaction ?? '', digest),
    );
  }

  async markSettled(key: string, transaction: string, serving = false): Promise<void> {
    const held = this.#held.get(key);
    this.#held.delete(key);
    const owner = serving && held !== undefined ? held.owner : '';
    if (owner !== '') this.#serve(key, owner);
    await this.#run('settled', () =>
      this.#redis.x402Settled(
        this.#prefix + key,
        transaction,
        held?.expiresAtMs ?? 0,
        owner,
        owner === '' ? 0 : this.#serveLeaseMs,
      ),
    );
  }

  /**
   * Hold a settled record for one response served again (a redemption, a credit): `busy` while
   * another request anywhere in the fleet serves or settles it. `expiresAtMs` bounds a record Redis
   * had forgotten (a restart without AOF) and this hold writes again.
   */
  async hold(key: string, expiresAtMs: number): Promise<'held' | 'busy' | 'unavailable'> {
    if (this.#serving.has(key)) return 'busy';
    const owner = `${this.#instance}:${(++this.#sequence).toString(36)}`;
    try {
      const held = await this.#redis.x402Hold(
        this.#prefix + key,
        owner,
        this.#serveLeaseMs,
        Math.ceil(expiresAtMs),
      );
      this.#ok();
      if (held !== 1) return 'busy';
      this.#serve(key, owner);
      return 'held';
    } catch (err) {
      const kind = this.#failed(classify(err as Error), 'hold', err as Error);
      // It may still run: undo it behind it, so it does not block the retry until the lease lapses.
      if (kind === 'timeout') this.#redis.x402Served(this.#prefix + key, owner).catch(() => 0);
      return 'unavailable';
    }
  }

  /**
   * The response of a record this instance serves has ended, and what the book learnt of it is
   * durable: another request may serve it again (if the book says it was not delivered). A record
   * this instance does not serve is ignored. Never rejects: a failure leaves it to its lease.
   * `whole` (the response went out whole): nothing is sent, the hold is no longer renewed and its
   * lease lapses by itself. Until then a copy is `used` (402 payment_already_used), which is what
   * a delivered payment's copy gets afterwards too; only an undelivered one must be let go at once,
   * so that its retry can be served again.
   */
  async served(key: string, whole = false): Promise<void> {
    const owner = this.#serving.get(key);
    if (owner === undefined) return;
    this.#serving.delete(key);
    if (this.#serving.size === 0) {
      clearInterval(this.#renewal);
      this.#renewal = undefined;
    }
    if (whole) return;
    await this.#run('served', () => this.#redis.x402Served(this.#prefix + key, owner));
  }

  #serve(key: string, owner: string): void {
    this.#serving.set(key, owner);
    if (this.#renewal !== undefined || this.#closed) return;
    // One timer for every record served: a long response keeps its hold, a dead instance loses it.
    this.#renewal = setInterval(() => void this.#renew(), Math.max(50, this.#serveLeaseMs / 3));
    this.#renewal.unref();
  }

  async #renew(): Promise<void> {
    const lease = this.#serveLeaseMs;
    await Promise.all(
      [...this.#serving].map(([key, owner]) =>
        this.#run('renew', () => this.#redis.x402Renew(this.#prefix + key, owner, lease)),
      ),
    );
  }

  size(): number {
    return this.#held.size;
  }

  async #run(operation: string, command: () => Promise<unknown>): Promise<void> {
    try {
      await command();
      this.#ok();
    } catch (err) {
      this.#failed(classify(err as Error), operation, err as Error);
    }
  }

  async #ping(): Promise<void> {
    if (this.#redis.status !== 'ready') return;
    await this.#run('ping', () => this.#redis.ping());
  }

  #ok(): void {
    this.#lastSuccessAt = Date.now();
  }

  #failed(kind: StoreErrorKind, operation: string, err: Error): StoreErrorKind {
    this.#lastFailure = { kind, message: err.message, at: Date.now() };
    this.#options.onError?.(kind, operation, err);
    return kind;
  }
}

/** timeout: no answer within the deadline; script: Redis answered with an error; else connection. */
export function classify(err: Error): StoreErrorKind {
  if (err.message === 'Command timed out') return 'timeout';
  if (err.name === 'ReplyError') return 'script';
  return 'connection';
}

/** The URL without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.href.replace(/\/$/, '');
  } catch {
    return '(invalid url)';
  }
}
