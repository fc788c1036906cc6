/**
 * The replay guard on a real Redis (Debian's redis-server, started here on loopback and a free
 * port): every behaviour the in-memory guard has, run against both, then what only a shared store
 * has — claims across instances, owner-checked release, lease takeover (a lapsed `settling` one
 * resumes, never settles afresh), resume by digest from another instance, and outages (paused:
 * `unavailable` within the deadline; killed and restarted: the same guard works again).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryReplayGuard } from '../../../src/verify/replay.js';
import {
  RedisReplayGuard,
  redactUrl,
  type RedisReplayGuardOptions,
  type StoreErrorKind,
} from '../../../src/verify/redis-replay.js';
import type { ReplayGuard } from '../../../src/verify/types.js';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';

const COMMAND_TIMEOUT_MS = 150;
/** The deadline plus what a busy event loop may add: well under a second. */
const SLACK_MS = COMMAND_TIMEOUT_MS + 400;

let redis: RedisServer;
const guards: RedisReplayGuard[] = [];
let prefixes = 0;

beforeAll(async () => {
  redis = await startRedis();
});

afterEach(async () => {
  redis.resume();
  await Promise.all(guards.splice(0).map((g) => g.close()));
});

afterAll(async () => {
  await redis?.remove();
});

/** A connected guard; each test gets its own key prefix unless it shares one on purpose. */
async function redisGuard(
  options: Partial<RedisReplayGuardOptions> = {},
): Promise<RedisReplayGuard> {
  const guard = new RedisReplayGuard({
    url: redis.url,
    keyPrefix: `t${++prefixes}:`,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    claimLeaseMs: 30_000,
    settleLeaseMs: 30_000,
    ...options,
  });
  guards.push(guard);
  await guard.connect();
  return guard;
}

/** Two guards on one prefix: two gateways of a fleet. */
async function fleet(
  options: Partial<RedisReplayGuardOptions> = {},
): Promise<[RedisReplayGuard, RedisReplayGuard]> {
  const keyPrefix = `f${++prefixes}:`;
  return [await redisGuard({ keyPrefix, ...options }), await redisGuard({ keyPrefix, ...options })];
}

const later = (ms = 60_000): number => Date.now() + ms;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const KINDS: ReadonlyArray<readonly [string, () => Promise<ReplayGuard>]> = [
  ['in memory', () => Promise.resolve(new InMemoryReplayGuard({ maxEntries: 1_000 }))],
  ['on redis', () => redisGuard()],
];

describe.each(KINDS)('ReplayGuard %s: the shared behaviours', (_name, make) => {
  it('claims a fresh key, then answers used to a second claim of the same key', async () => {
    const guard = await make();
    expect(await guard.claim('k', () => 'd1', later())).toEqual({ kind: 'claimed' });
    expect(await guard.claim('k', () => 'd1', later())).toEqual({ kind: 'used' });
    expect(await guard.claim('k', () => 'd2', later())).toEqual({ kind: 'used' });
    expect(guard.size()).toBe(1);
  });

  it('keeps different keys independent', async () => {
    const guard = await make();
    expect((await guard.claim('a', () => 'd', later())).kind).toBe('claimed');
    expect((await guard.claim('b', () => 'd', later())).kind).toBe('claimed');
    expect(guard.size()).toBe(2);
  });

  it('lets a released key be claimed again', async () => {
    const guard = await make();
    await guard.claim('k', () => 'd1', later());
    await guard.release('k');
    expect(guard.size()).toBe(0);
    expect((await guard.claim('k', () => 'd1', later())).kind).toBe('claimed');
  });

  it('resumes a pending key for the same digest, with its transaction; refuses another digest', async () => {
    const guard = await make();
    await guard.claim('k', () => 'd1', later());
    await guard.markPending('k', '0xabc', 'd1');
    expect(await guard.claim('k', () => 'd2', later())).toEqual({ kind: 'used' });
    expect(await guard.claim('k', () => 'd1', later())).toEqual({
      kind: 'resumed',
      transaction: '0xabc',
    });
  });

  it('lets only one of two back-to-back resumes take over a pending key', async () => {
    const guard = await make();
    await guard.claim('k', () => 'd1', later());
    await guard.markPending('k', undefined, 'd1');
    const outcomes = await Promise.all([
      guard.claim('k', () => 'd1', later()),
      guard.claim('k', () => 'd1', later()),
    ]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['resumed', 'used']);
    expect(outcomes.find((o) => o.kind === 'resumed')).toEqual({
      kind: 'resumed',
      transaction: undefined,
    });
  });

  it('keeps the known transaction when a resumed claim goes pending without one', async () => {
    const guard = await make();
    await guard.claim('k', () => 'd1', later());
    await guard.markPending('k', '0xabc', 'd1');
    await guard.claim('k', () => 'd1', later());
    await guard.markPending('k', undefined, 'd1');
    expect(await guard.claim('k', () => 'd1', later())).toEqual({
      kind: 'resumed',
      transaction: '0xabc',
    });
  });

  it('answers used for a settled key until it expires, then lets it be claimed', async () => {
    const guard = await make();
    await guard.claim('k', () => 'd1', later(400));
    await guard.markSettled('k', '0xabc');
    expect((await guard.claim('k', () => 'd1', later())).kind).toBe('used');
    await sleep(1_100); // the in-memory guard holds a settled key to the next whole second
    expect((await guard.claim('k', () => 'd1', later())).kind).toBe('claimed');
  });

  it('puts a settled key back to pending when told its settlement is in doubt', async () => {
    const guard = await make();
    await guard.claim('k', () => 'd1', later());
    await guard.markSettled('k', '0xabc');
    await guard.markPending('k', '0xabc', 'd1');
    expect(await guard.claim('k', () => 'd2', later())).toEqual({ kind: 'used' });
    expect(await guard.claim('k', () => 'd1', later())).toEqual({
      kind: 'resumed',
      transaction: '0xabc',
    });
  });

  it('keeps a pending key until its expiry, then treats it as absent', async () => {
    const guard = await make();
    await guard.claim('k', () => 'd1', later(300));
    await guard.markPending('k', '0xabc', 'd1');
    expect((await guard.claim('k', () => 'd2', later())).kind).toBe('used');
    await sleep(350);
    expect((await guard.claim('k', () => 'd2', later())).kind).toBe('claimed');
  });

  it('ignores markPending and markSettled for a key it does not hold', async () => {
    const guard = await make();
    await guard.markPending('x', '0x1', 'd');
    await guard.markSettled('y', '0x2');
    expect(guard.size()).toBe(0);
    expect((await guard.claim('x', () => 'd', later())).kind).toBe('claimed');
    expect((await guard.claim('y', () => 'd', later())).kind).toBe('claimed');
  });
});

describe('RedisReplayGuard: a fleet sharing one Redis', () => {
  it('gives exactly one claimed among 1,000 concurrent claims of one key from two instances', async () => {
    // A deadline no busy test machine reaches: this is about atomicity, not about deadlines.
    const [a, b] = await fleet({ commandTimeoutMs: 5_000 });
    const outcomes = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => (i % 2 === 0 ? a : b).claim('k', () => 'd', later())),
    );
    const kinds = outcomes.map((o) => o.kind);
    expect(kinds.filter((k) => k === 'claimed')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'used')).toHaveLength(999);
  });

  it('resumes a pending settlement by its digest from another instance, with its tx hash', async () => {
    const [a, b] = await fleet();
    await a.claim('k', () => 'd1', later());
    await a.markPending('k', '0xfeed', 'd1');
    expect(await b.claim('k', () => 'd2', later())).toEqual({ kind: 'used' });
    expect(await b.claim('k', () => 'd1', later())).toEqual({
      kind: 'resumed',
      transaction: '0xfeed',
    });
    expect(await a.claim('k', () => 'd1', later())).toEqual({ kind: 'used' });
    await b.markSettled('k', '0xfeed', true);
    expect(await a.claim('k', () => 'd1', later())).toEqual({ kind: 'used' });
    await b.served('k');
    expect(await a.claim('k', () => 'd1', later())).toEqual({ kind: 'used', spent: true });
  });

  it('lets another instance take over a claim whose lease lapsed before settling (nothing was sent)', async () => {
    const [a, b] = await fleet({ claimLeaseMs: 250 });
    expect((await a.claim('k', () => 'd1', later())).kind).toBe('claimed');
    expect((await b.claim('k', () => 'd1', later())).kind).toBe('used');
    await sleep(300);
    // A fresh claim: its payload is verified again (another payload over the nonce may take it too).
    expect((await b.claim('k', () => 'd2', later())).kind).toBe('claimed');
    // The old holder has lost it: no settle request may leave, and its release is a no-op.
    expect(await a.settling('k')).toBe(false);
    await a.release('k');
    expect((await a.claim('k', () => 'd2', later())).kind).toBe('used');
    expect(await b.settling('k')).toBe(true);
  });

  it('turns a lapsed settling lease into a resume of that settlement, never a fresh claim', async () => {
    const [a, b] = await fleet({ claimLeaseMs: 250, settleLeaseMs: 250 });
    await a.claim('k', () => 'd1', later());
    expect(await a.settling('k')).toBe(true);
    expect((await b.claim('k', () => 'd1', later())).kind).toBe('used'); // its lease is live
    await sleep(300);
    // Another payload over the same nonce never takes it: the first may have moved money.
    expect(await b.claim('k', () => 'd2', later())).toEqual({ kind: 'used' });
    expect(await b.claim('k', () => 'd1', later())).toEqual({
      kind: 'resumed',
      transaction: undefined,
    });
    // The old holder, back from its pause, cannot settle or release it now; a tx hash it learnt
    // is kept for the resume.
    expect(await a.settling('k')).toBe(false);
    await a.release('k');
    await a.markPending('k', '0xbeef', 'd1');
    await b.markPending('k', undefined, 'd1');
    expect(await a.claim('k', () => 'd1', later())).toEqual({
      kind: 'resumed',
      transaction: '0xbeef',
    });
  });

  it('resumes again when a resumed claim lapses (its holder died mid-resume)', async () => {
    const [a, b] = await fleet({ claimLeaseMs: 250 });
    await a.claim('k', () => 'd1', later());
    await a.markPending('k', '0x1', 'd1');
    expect((await a.claim('k', () => 'd1', later())).kind).toBe('resumed');
    expect((await b.claim('k', () => 'd1', later())).kind).toBe('used');
    await sleep(300);
    expect(await b.claim('k', () => 'd1', later())).toEqual({
      kind: 'resumed',
      transaction: '0x1',
    });
  });

  it('keeps a settled record that vanished from Redis (restart without AOF) once it is marked settled', async () => {
    const guard = await redisGuard();
    await guard.claim('k', () => 'd1', later());
    expect(await redis.command('FLUSHALL')).toContain('OK');
    await guard.markSettled('k', '0x1');
    expect((await guard.claim('k', () => 'd1', later())).kind).toBe('used');
  });
});

describe('RedisReplayGuard: one response at a time per record, fleet-wide', () => {
  it('keeps a settled claim held while its response is served: used, not spent, until served', async () => {
    const [a, b] = await fleet();
    await a.claim('k', () => 'd1', later());
    await a.markSettled('k', '0x1', true);
    // Being served on A: a retry anywhere is plainly used, and nobody may hold it for a redemption.
    expect(await b.claim('k', () => 'd1', later())).toEqual({ kind: 'used' });
    expect(await b.hold('k', later())).toBe('busy');
    await a.served('k');
    // Served and let go: the book may owe the retry a response.
    expect(await b.claim('k', () => 'd1', later())).toEqual({ kind: 'used', spent: true });
    expect(await b.hold('k', later())).toBe('held');
  });

  it('answers spent for a key settled by nobody serving it (a reconciler, a failure)', async () => {
    const guard = await redisGuard();
    await guard.claim('k', () => 'd1', later());
    await guard.markSettled('k', '0x1');
    expect(await guard.claim('k', () => 'd1', later())).toEqual({ kind: 'used', spent: true });
  });

  it('gives one hold among many concurrent ones over two instances, and refuses the rest until served', async () => {
    const [a, b] = await fleet();
    await a.claim('k', () => 'd1', later());
    await a.markSettled('k', '0x1');
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).hold('k', later())),
    );
    expect(answers.filter((x) => x === 'held')).toHaveLength(1);
    expect(answers.filter((x) => x === 'busy')).toHaveLength(199);
    const holder = answers.indexOf('held') % 2 === 0 ? a : b;
    await holder.served('k');
    expect(await (holder === a ? b : a).hold('k', later())).toBe('held');
  });

  it('lets go of a hold only for its owner', async () => {
    const [a, b] = await fleet();
    await a.claim('k', () => 'd1', later());
    await a.markSettled('k', '0x1');
    expect(await a.hold('k', later())).toBe('held');
    await b.served('k'); // B holds nothing: ignored
    expect(await b.hold('k', later())).toBe('busy');
  });

  it('renews the hold while the response lasts, and lets it lapse when its holder dies', async () => {
    const [a, b] = await fleet({ serveLeaseMs: 300 });
    await a.claim('k', () => 'd1', later());
    await a.markSettled('k', '0x1', true);
    await sleep(900); // three leases: only the renewal keeps it
    expect(await b.hold('k', later())).toBe('busy');
    await a.close(); // the holder is gone: no more renewals
    await sleep(400);
    expect(await b.hold('k', later())).toBe('held');
  });

  it('lets a response delivered whole keep its hold until the lease lapses, sending nothing', async () => {
    const [a, b] = await fleet({ serveLeaseMs: 300 });
    await a.claim('k', () => 'd1', later());
    await a.markSettled('k', '0x1', true);
    await a.served('k', true);
    // Delivered: a copy is used (402 payment_already_used), and no redemption can hold it.
    expect(await b.claim('k', () => 'd1', later())).toEqual({ kind: 'used' });
    expect(await b.hold('k', later())).toBe('busy');
    await sleep(400); // not renewed any more: the lease lapses by itself
    expect(await b.claim('k', () => 'd1', later())).toEqual({ kind: 'used', spent: true });
    expect(await b.hold('k', later())).toBe('held');
  });

  it('holds a record Redis had forgotten (restart without AOF) until its expiry', async () => {
    const [a, b] = await fleet();
    expect(await a.hold('gone', later(60_000))).toBe('held');
    expect(await b.hold('gone', later())).toBe('busy');
    expect((await b.claim('gone', () => 'd1', later())).kind).toBe('used');
  });

  it('answers unavailable for a hold while Redis is paused', async () => {
    const guard = await redisGuard();
    redis.pause();
    const started = performance.now();
    expect(await guard.hold('k', later())).toBe('unavailable');
    expect(performance.now() - started).toBeLessThan(SLACK_MS);
  });
});

describe('RedisReplayGuard: outages', () => {
  it('answers unavailable within the deadline while Redis is paused, and recovers', async () => {
    const failures: StoreErrorKind[] = [];
    const guard = await redisGuard({ onError: (kind) => failures.push(kind) });
    expect(guard.health().ok).toBe(true);
    redis.pause();
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => guard.claim(`k${i}`, () => 'd', later())),
    );
    const took = performance.now() - started;
    redis.resume();
    expect(outcomes.every((o) => o.kind === 'unavailable')).toBe(true);
    expect(took).toBeLessThan(SLACK_MS);
    expect(failures).toContain('timeout');
    expect(guard.health()).toMatchObject({ ok: false });
    expect(guard.health().detail).toMatch(/timeout/);
    // The timed-out claims ran once Redis woke, and were undone behind them: nothing blocks a retry.
    await sleep(100);
    expect((await guard.claim('k0', () => 'd', later())).kind).toBe('claimed');
    expect(guard.health().ok).toBe(true);
  });

  it('never settles on a claim it cannot confirm: settling is false while Redis is paused', async () => {
    const guard = await redisGuard();
    await guard.claim('k', () => 'd', later());
    redis.pause();
    const started = performance.now();
    expect(await guard.settling('k')).toBe(false);
    expect(performance.now() - started).toBeLessThan(SLACK_MS);
    // release, pending and settled never reject: counted, and left to the lease.
    await expect(guard.release('k')).resolves.toBeUndefined();
    redis.resume();
  });

  it('answers unavailable at once while Redis is down, and works again after it restarts', async () => {
    const failures: StoreErrorKind[] = [];
    const guard = await redisGuard({ onError: (kind) => failures.push(kind) });
    expect((await guard.claim('before', () => 'd', later())).kind).toBe('claimed');
    await redis.kill();
    const started = performance.now();
    expect((await guard.claim('k', () => 'd', later())).kind).toBe('unavailable');
    expect(performance.now() - started).toBeLessThan(SLACK_MS);
    expect(failures).toContain('connection');
    expect(guard.health().ok).toBe(false);
    await redis.start();
    // The client reconnects by itself (backoff up to 2 s): the same instance claims again.
    const deadline = Date.now() + 8_000;
    let outcome = await guard.claim('k', () => 'd', later());
    while (outcome.kind === 'unavailable' && Date.now() < deadline) {
      await sleep(100);
      outcome = await guard.claim('k', () => 'd', later());
    }
    expect(outcome.kind).toBe('claimed');
    expect(guard.health().ok).toBe(true);
  });

  it('counts a Redis that answers with an error (OOM) as script, and answers unavailable', async () => {
    const failures: StoreErrorKind[] = [];
    const guard = await redisGuard({ onError: (kind) => failures.push(kind) });
    await redis.command('CONFIG', 'SET', 'maxmemory', '1');
    try {
      expect((await guard.claim('k', () => 'd', later())).kind).toBe('unavailable');
    } finally {
      await redis.command('CONFIG', 'SET', 'maxmemory', '0');
    }
    expect(failures).toEqual(['script']);
    expect(guard.health().detail).toMatch(/script.*OOM/);
    expect((await guard.claim('k', () => 'd', later())).kind).toBe('claimed');
  });

  it('fails to connect with a clear message when nothing listens', async () => {
    const guard = new RedisReplayGuard({
      url: 'redis://127.0.0.1:1',
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      claimLeaseMs: 1_000,
      settleLeaseMs: 1_000,
      connectTimeoutMs: 500,
    });
    await expect(guard.connect()).rejects.toThrow(
      /store\.redis: cannot reach redis:\/\/127\.0\.0\.1:1/,
    );
    await guard.close();
  });
});

describe('RedisReplayGuard: start-up checks', () => {
  it('accepts noeviction and warns that AOF is off', async () => {
    const guard = await redisGuard();
    const settings = await guard.checkSettings();
    expect(settings.refuse).toBeUndefined();
    expect(settings.summary).toBe('maxmemory-policy noeviction, appendonly no');
    expect(settings.warnings.join('\n')).toMatch(/appendonly is no/);
    expect(guard.health().detail).toContain('noeviction');
  });

  it('refuses a Redis that evicts keys under a memory limit', async () => {
    const guard = await redisGuard();
    await redis.command('CONFIG', 'SET', 'maxmemory', '100mb');
    await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const settings = await guard.checkSettings();
      expect(settings.refuse).toMatch(/maxmemory-policy allkeys-lru.*noeviction/);
    } finally {
      await redis.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      await redis.command('CONFIG', 'SET', 'maxmemory', '0');
    }
  });

  it('redacts the password of the URL it names', () => {
    expect(redactUrl('redis://user:secret@host:6379/0')).toBe('redis://user:***@host:6379/0');
  });
});
