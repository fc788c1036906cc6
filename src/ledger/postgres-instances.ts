/**
 * Heartbeat rows: which gateways share one Postgres book right now. Several instances cannot be
 * seen from one config, and an instance whose replay claims live in its own memory next to another
 * instance lets one payment be claimed, verified and served by both at once. So each instance that
 * opens a Postgres ledger keeps a row in `instances` (docs/ledger.md §18): written when it joins,
 * `last_seen` refreshed every few seconds, deleted when it closes cleanly. A row is live while its
 * `last_seen` is within a few intervals of now.
 *
 * Both the writes and the comparison use the database's clock (`now()`), so the instances' clocks
 * do not matter. A heartbeat that fails is reported and tried again at the next interval: it never
 * touches a paid request.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/** How often an instance refreshes its row, ms. */
export const HEARTBEAT_EVERY_MS = 5_000;
/** A row is live while seen within this many intervals (a missed beat or two is no departure). */
export const LIVE_WITHIN_BEATS = 3;

/** Where a gateway's replay claims live: its own memory, or the fleet's Redis (`store.redis`). */
export type ReplayStoreKind = 'memory' | 'redis';

/** What an instance says of itself in its row. */
export interface InstanceFacts {
  readonly host: string;
  readonly pid: number;
  /** The node:cluster worker's index (`X402_WORKER_INDEX`), when it is one. */
  readonly worker: number | undefined;
  readonly replayStore: ReplayStoreKind;
}

/** Another instance's row, found live. */
export interface LiveInstance extends InstanceFacts {
  readonly id: string;
  /** When it joined (the database's clock), ISO 8601. */
  readonly since: string;
}

export interface HeartbeatOptions {
  /** The refresh interval, ms. Default HEARTBEAT_EVERY_MS. */
  readonly everyMs?: number;
  /** A beat succeeded: `live` instances (this one included) are in the book now. */
  readonly onBeat?: (live: number) => void;
  /** A beat failed (it is tried again at the next interval). */
  readonly onError?: (error: Error) => void;
}

interface InstanceRow {
  id: string;
  host: string;
  pid: number;
  worker: number | null;
  replay_store: ReplayStoreKind;
  started_at: Date;
}

/** One instance's row in one book: join, beat, leave. */
export class InstanceHeartbeat {
  /** Per process and per store: two gateways in one process (tests) are two instances. */
  readonly id = randomUUID();
  readonly #pool: pg.Pool;
  readonly #everyMs: number;
  readonly #options: HeartbeatOptions;
  #facts: InstanceFacts | undefined;
  #timer: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;

  constructor(pool: pg.Pool, options: HeartbeatOptions = {}) {
    this.#pool = pool;
    this.#options = options;
    this.#everyMs = options.everyMs ?? HEARTBEAT_EVERY_MS;
  }

  /** The window within which a row counts as live, ms. */
  get liveWithinMs(): number {
    return this.#everyMs * LIVE_WITHIN_BEATS;
  }

  /**
   * Writes this instance's row, drops rows gone stale, and answers the other live instances; then
   * beats every interval until `leave()`. The row is written before the others are read: of two
   * instances joining at once, the later one's read sees the earlier one's row.
   */
  async join(facts: InstanceFacts): Promise<LiveInstance[]> {
    this.#facts = facts;
    // (Not `onBeat?.(await …)`: an absent hook would skip the write with its argument.)
    const live = await this.#upsert(facts);
    this.#options.onBeat?.(live);
    await this.#pool.query(
      `DELETE FROM instances WHERE last_seen < now() - $1 * interval '1 millisecond'`,
      [this.liveWithinMs],
    );
    const { rows } = await this.#pool.query<InstanceRow>(
      `SELECT id, host, pid, worker, replay_store, started_at FROM instances
       WHERE id <> $1 AND last_seen >= now() - $2 * interval '1 millisecond'
       ORDER BY started_at, id`,
      [this.id, this.liveWithinMs],
    );
    this.#timer ??= setInterval(() => this.#beat(), this.#everyMs);
    this.#timer.unref();
    return rows.map(toLive);
  }

  /**
   * Stops beating and deletes the row (a clean shutdown: the others need not wait it out). With
   * `deleteRow` false (the server is known to be away) the row is left to go stale: a shutdown is
   * not held up by a delete that cannot succeed.
   */
  async leave(deleteRow = true): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#beating;
    if (this.#facts === undefined) return;
    this.#facts = undefined;
    if (deleteRow) await this.#pool.query('DELETE FROM instances WHERE id = $1', [this.id]);
  }

  /** One refresh; a beat still running (a slow server) is not doubled. */
  #beat(): void {
    const facts = this.#facts;
    if (facts === undefined || this.#beating !== undefined) return;
    this.#beating = this.#upsert(facts)
      .then(
        (live) => this.#options.onBeat?.(live),
        (err: unknown) =>
          this.#options.onError?.(err instanceof Error ? err : new Error(String(err))),
      )
      .finally(() => {
        this.#beating = undefined;
      });
  }

  /**
   * Writes the row (again, if another instance dropped it as stale while this one stalled) and
   * counts the live instances, this one included: one round trip. The count's snapshot predates
   * the upsert, so this one's row is counted apart.
   */
  async #upsert(facts: InstanceFacts): Promise<number> {
    const { rows } = await this.#pool.query<{ others: number }>(
      `WITH beat AS (
         INSERT INTO instances (id, host, pid, worker, replay_store) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET last_seen = now()
         RETURNING id)
       SELECT count(*)::integer AS others FROM instances
       WHERE id <> $1 AND last_seen >= now() - $6 * interval '1 millisecond'`,
      [this.id, facts.host, facts.pid, facts.worker ?? null, facts.replayStore, this.liveWithinMs],
    );
    return (rows[0]?.others ?? 0) + 1;
  }
}

function toLive(row: InstanceRow): LiveInstance {
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    worker: row.worker ?? undefined,
    replayStore: row.replay_store,
    since: row.started_at.toISOString(),
  };
}

/** `host pid 123 (worker 2), since …`: an instance as messages name it. */
export function describeInstance(i: LiveInstance): string {
  const worker = i.worker === undefined ? '' : ` (worker ${i.worker})`;
  return `${i.host} pid ${i.pid}${worker}, replay store ${i.replayStore}, up since ${i.since}`;
}

/**
 * What the live instances mean for one joining with `own` replay store. In memory next to any
 * other live instance: refused (one payment could be served by both). With a shared store next to
 * an in-memory one: start, but say that one is unsafe.
 */
export function fleetVerdict(
  own: ReplayStoreKind,
  others: readonly LiveInstance[],
): { readonly refuse?: string; readonly warnings: readonly string[] } {
  if (others.length === 0) return { warnings: [] };
  if (own === 'memory') {
    const first = others[0]!;
    const more = others.length > 1 ? ` and ${others.length - 1} more` : '';
    return {
      refuse:
        `another gateway instance is live on this Postgres ledger (${describeInstance(first)})${more}, ` +
        'and this one keeps its replay claims in memory: one payment could be served twice. ' +
        'Configure store.redis (one Redis) on every instance that shares the ledger',
      warnings: [],
    };
  }
  return {
    warnings: others
      .filter((i) => i.replayStore === 'memory')
      .map(
        (i) =>
          `a live instance on this Postgres ledger keeps its replay claims in memory (${describeInstance(i)}): ` +
          'it can serve a payment this fleet also serves; configure store.redis on it',
      ),
  };
}
