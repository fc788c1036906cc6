/**
 * The SQLite ledger as the gateway uses it: a writer thread owns the connection (sqlite-worker.ts),
 * and this side queues ops and sends them once per turn of the event loop, so many requests'
 * writes cross in one message and commit in one transaction. An awaited write resolves when the
 * writer has committed it (fsync'd: `synchronous=FULL`).
 *
 * If the writer thread dies, every write waiting on it fails (the caller answers 503), and the
 * next write after a second starts a new one: a passing fault does not need a restart.
 */
import { Worker } from 'node:worker_threads';
import type {
  Attempt,
  LedgerRecord,
  LedgerState,
  PaymentFacts,
  RecordFilter,
  Resolution,
  RevenueTotal,
  StateChange,
} from './record.js';
import type { Op, Reply, WireError } from './protocol.js';
import type { WriteResult } from './sqlite-book.js';
import {
  LedgerUnavailableError,
  reportMove,
  type LedgerHooks,
  type LedgerStore,
  type UnresolvedSummary,
} from './store.js';

/** After the writer thread died, wait this long before starting another. */
const RESPAWN_AFTER_MS = 1_000;
/** Under load, at most one message to the writer per this many ms (see #schedule). */
const POST_WINDOW_MS = 1;
/** The longest an unanswered op (attempt, audit row) waits for a message to ride with. */
const LAZY_FLUSH_MS = 20;

interface Waiter {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly started: number;
  readonly write: boolean;
  /** The state a successful write moves its record to (begin: settling; change: its state). */
  readonly to: LedgerState | undefined;
}

export interface SqliteLedgerOptions {
  readonly path: string;
  readonly hooks?: LedgerHooks;
}

export class SqliteLedger implements LedgerStore {
  readonly kind = 'sqlite';
  readonly location: string;
  readonly #hooks: LedgerHooks;
  #worker: Worker | undefined = undefined;
  #ready = false;
  #closing = false;
  #diedAt = 0;
  #nextId = 1;
  readonly #waiters = new Map<number, Waiter>();
  #outIds: number[] = [];
  #outOps: Op[] = [];
  /** A flush for an answered op is scheduled (setImmediate, or the post window's timer). */
  #urgent = false;
  /** A flush only for unanswered ops (attempts, audit rows) is scheduled. */
  #lazy: NodeJS.Timeout | undefined = undefined;
  #lastPost = -Infinity;

  constructor(options: SqliteLedgerOptions) {
    this.location = options.path;
    this.#hooks = options.hooks ?? {};
  }

  /** False while the writer is down; asking starts a new one once the pause has passed. */
  get writable(): boolean {
    if (!this.#ready && !this.#closing && this.#worker === undefined) this.#respawnSoon();
    return this.#ready && !this.#closing;
  }

  #respawnSoon(): void {
    if (this.#diedAt === 0 || Date.now() - this.#diedAt < RESPAWN_AFTER_MS) return;
    this.#diedAt = Date.now();
    this.#spawn().catch((err: unknown) => this.#hooks.onError?.('open', asError(err)));
  }

  async open(): Promise<void> {
    this.#closing = false;
    await this.#spawn();
  }

  #spawn(): Promise<void> {
    const worker = startWriter({ path: this.location });
    this.#worker = worker;
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      worker.on('message', (reply: Reply) => {
        switch (reply.type) {
          case 'ready':
            opened = true;
            this.#ready = true;
            resolve();
            return;
          case 'open-failed':
            reject(
              new LedgerUnavailableError(
                `cannot open the ledger at ${this.location}: ${reply.error.message}`,
                'open',
              ),
            );
            return;
          case 'results':
            for (const [id, value, error] of reply.results) this.#answer(id, value, error);
            return;
          case 'dropped':
            this.#hooks.onError?.('write', wireError(reply.error));
            return;
        }
      });
      worker.on('error', (err) => {
        if (!opened) reject(new LedgerUnavailableError(`ledger writer: ${err.message}`, 'open'));
        this.#died(err);
      });
      worker.on('exit', () => {
        if (!opened) {
          reject(new LedgerUnavailableError('the ledger writer exited while opening', 'open'));
        }
        this.#died(undefined);
      });
    });
  }

  #died(err: Error | undefined): void {
    if (this.#worker === undefined) return;
    this.#worker = undefined;
    const wasReady = this.#ready;
    this.#ready = false;
    this.#diedAt = Date.now();
    const error = new LedgerUnavailableError(
      `the ledger writer stopped${err === undefined ? '' : `: ${err.message}`}`,
      'unavailable',
    );
    if (wasReady && !this.#closing) this.#hooks.onError?.('unavailable', error);
    for (const [id, waiter] of this.#waiters) {
      this.#waiters.delete(id);
      waiter.reject(error);
    }
  }

  #answer(id: number, value: unknown, error: WireError | undefined): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return;
    this.#waiters.delete(id);
    if (error !== undefined) {
      const kind = waiter.write ? 'write' : 'read';
      const failure = new LedgerUnavailableError(`ledger ${kind}: ${error.message}`, kind, {
        cause: wireError(error),
      });
      this.#hooks.onError?.(kind, failure);
      waiter.reject(failure);
      return;
    }
    if (waiter.write) this.#hooks.onWrite?.((performance.now() - waiter.started) / 1000);
    if (waiter.to !== undefined) reportMove(this.#hooks, value as WriteResult, waiter.to);
    waiter.resolve(value);
  }

  /** Queue an op; with `answer`, a promise of its result. */
  #send(op: Op, answer: boolean, write: boolean): Promise<unknown> | undefined {
    const to = op.op === 'begin' ? 'settling' : op.op === 'change' ? op.change.state : undefined;
    if (this.#worker === undefined || !this.#ready || this.#closing) {
      // Start a new writer for the next request; this one is refused (fail closed).
      if (!this.#closing && this.#worker === undefined) this.#respawnSoon();
      const error = new LedgerUnavailableError('the ledger is not open', 'unavailable');
      if (!answer) {
        this.#hooks.onError?.('unavailable', error);
        return undefined;
      }
      return Promise.reject(error);
    }
    const id = answer ? this.#nextId++ : 0;
    this.#outIds.push(id);
    this.#outOps.push(op);
    this.#schedule(answer);
    if (!answer) return undefined;
    return new Promise((resolve, reject) => {
      this.#waiters.set(id, { resolve, reject, started: performance.now(), write, to });
    });
  }

  /**
   * Each message to the writer costs the event loop several µs whatever it carries, so ops are
   * sent in batches: an answered op goes with the next turn of the loop, or, under load, at most
   * every POST_WINDOW_MS; an unanswered one (an attempt, an audit row) waits for the next answered
   * op's message, or at most LAZY_FLUSH_MS.
   */
  #schedule(urgent: boolean): void {
    if (this.#urgent) return;
    if (!urgent) {
      this.#lazy ??= setTimeout(this.#flush, LAZY_FLUSH_MS);
      return;
    }
    this.#urgent = true;
    const wait = this.#lastPost + POST_WINDOW_MS - performance.now();
    if (wait >= 1) setTimeout(this.#flush, wait);
    else setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#urgent = false;
    clearTimeout(this.#lazy);
    this.#lazy = undefined;
    if (this.#outOps.length === 0) return;
    this.#lastPost = performance.now();
    const ids = this.#outIds;
    const ops = this.#outOps;
    this.#outIds = [];
    this.#outOps = [];
    if (this.#worker === undefined) {
      const error = new LedgerUnavailableError('the ledger writer stopped', 'unavailable');
      for (const id of ids) {
        const w = this.#waiters.get(id);
        this.#waiters.delete(id);
        w?.reject(error);
      }
      return;
    }
    this.#worker.postMessage({ ids, ops });
  };

  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#flush();
    const worker = this.#worker;
    if (worker === undefined) return;
    // Answers still due arrive before the writer's own close (one port, in order).
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    const deadline = setTimeout(() => void worker.terminate(), 5_000);
    await exited;
    clearTimeout(deadline);
    this.#ready = false;
  }

  begin(facts: PaymentFacts, at: number): Promise<WriteResult> {
    return this.#send({ op: 'begin', facts, at }, true, true) as Promise<WriteResult>;
  }

  change(
    key: string,
    from: readonly LedgerState[],
    change: StateChange,
    by?: Resolution['by'],
    note?: string,
  ): Promise<WriteResult> {
    const op = { op: 'change' as const, key, from, change, by, note };
    return this.#send(op, true, true) as Promise<WriteResult>;
  }

  redeem(key: string, max: number, at: number): Promise<WriteResult> {
    return this.#send({ op: 'redeem', key, max, at }, true, true) as Promise<WriteResult>;
  }

  audit(facts: PaymentFacts, state: LedgerState, at: number): void {
    void this.#send({ op: 'audit', facts, state, at }, false, true); // no answer asked: undefined
  }

  attempt(attempt: Attempt): void {
    void this.#send({ op: 'attempt', attempt }, false, true);
  }

  get(key: string): Promise<LedgerRecord | undefined> {
    return this.#send({ op: 'get', key }, true, false) as Promise<LedgerRecord | undefined>;
  }

  list(filter: RecordFilter = {}): Promise<LedgerRecord[]> {
    return this.#send({ op: 'list', filter }, true, false) as Promise<LedgerRecord[]>;
  }

  attempts(key: string): Promise<Attempt[]> {
    return this.#send({ op: 'attempts', key }, true, false) as Promise<Attempt[]>;
  }

  resolutions(key: string): Promise<Resolution[]> {
    return this.#send({ op: 'resolutions', key }, true, false) as Promise<Resolution[]>;
  }

  revenue(): Promise<RevenueTotal[]> {
    return this.#send({ op: 'revenue' }, true, false) as Promise<RevenueTotal[]>;
  }

  unresolved(): Promise<UnresolvedSummary> {
    return this.#send({ op: 'unresolved' }, true, false) as Promise<UnresolvedSummary>;
  }

  async backup(path: string): Promise<void> {
    await this.#send({ op: 'backup', path }, true, false);
  }
}

/**
 * The writer thread: the compiled `sqlite-worker.js` beside this file, or, when the gateway runs
 * from its TypeScript sources (tests, `tsx`), the `.ts` one behind tsx's loader (registered inside
 * the thread first: Node 20 does not apply an `--import` loader to a worker's entry file).
 */
function startWriter(workerData: { readonly path: string }): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./sqlite-worker.js', import.meta.url), { workerData });
  }
  const entry = new URL('./sqlite-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

function wireError(e: WireError): Error {
  const err = new Error(e.message);
  if (e.code !== undefined) (err as Error & { code?: string }).code = e.code;
  return err;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
