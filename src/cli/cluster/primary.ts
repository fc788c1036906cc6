/**
 * `start` with `server.workers` > 1: this process becomes the cluster's primary. It forks the
 * workers (each runs `start` with the same arguments and serves the paid listener, which node's
 * primary shares out round-robin; Node 20 has no reusePort), serves the admin listener for all of
 * them, and supervises:
 * - the first worker starts alone (it reads the book's revenue for the primary's series), the
 *   others once it listens; start-up fails, and every worker stops, if one cannot start;
 * - a worker that exits unexpectedly is started again after a backoff (250 ms doubling to 10 s,
 *   reset once a worker has served 30 s), counted in `worker_restarts_total`. What it held is the
 *   shared stores' to resolve: its claims lapse with their leases, its unresolved settlements are
 *   in the shared book, where every worker's reconciler finds them;
 * - SIGTERM/SIGINT: `stop` to every worker (each drains its requests and settlements), then exit;
 *   workers still running after `server.shutdownTimeoutMs` + 5 s are killed;
 * - SIGHUP: `reload` to every worker (each re-reads and applies the file as a single process does).
 * Workers are told over IPC, not by signal: a terminal's Ctrl-C reaches them too, and a second
 * signal must not cut a drain short.
 */
import cluster, { type Worker } from 'node:cluster';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../../config/index.js';
import { createLogger } from '../../log/index.js';
import { createClusterMetrics } from '../../metrics/index.js';
import { listenError } from '../../lib/index.js';
import { waitForStop, isFault } from '../stop-signal.js';
import { isToPrimary, type Question, type ToWorker, type WorkerMetrics } from './messages.js';
import { createPrimaryAdmin } from './primary-admin.js';

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 10_000;
const HEALTHY_AFTER_MS = 30_000;
const ASK_TIMEOUT_MS = 3_000;
/** The env var that tells a worker its place: `1` reads the book's revenue for the primary. */
export const WORKER_INDEX_ENV = 'X402_WORKER_INDEX';

interface Slot {
  readonly index: number;
  worker: Worker | undefined;
  listening: boolean;
  startedAt: number;
  crashes: number;
}

export async function runPrimary(config: GatewayConfig): Promise<number> {
  const log = createLogger(config.log);
  const n = config.server.workers;
  const metrics = createClusterMetrics(n);
  const slots: Slot[] = Array.from({ length: n }, (_, i) => ({
    index: i + 1,
    worker: undefined,
    listening: false,
    startedAt: 0,
    crashes: 0,
  }));
  const retired: WorkerMetrics[] = [];
  const lastScrape = new Map<number, WorkerMetrics>();
  let draining = false;
  let seeded = false;
  let nextId = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let listenAddress: AddressInfo | undefined;

  const serving = (): Worker[] =>
    slots.flatMap((s) => (s.worker !== undefined && s.listening ? [s.worker] : []));
  const countUp = (): void => metrics.workersUp(serving().length);

  const ask = (worker: Worker, question: Question): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`worker ${worker.id} did not answer ${question} in time`));
      }, ASK_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      tell(worker, { x402: 'ask', id, question });
    });

  cluster.on('message', (_worker, message: unknown) => {
    if (!isToPrimary(message)) return;
    if (message.x402 === 'revenue') {
      // Once: a restarted first worker reads a book that already holds what the workers counted.
      if (!seeded) metrics.seedRevenue(message.totals);
      seeded = true;
      return;
    }
    const w = waiting.get(message.id);
    if (w === undefined) return;
    waiting.delete(message.id);
    if (message.error !== undefined) w.reject(new Error(message.error));
    else w.resolve(message.value);
  });

  const admin: http.Server = createPrimaryAdmin({
    configured: n,
    askAll: (q) => Promise.all(serving().map((w) => ask(w, q).catch((e: Error) => e))),
    askOne: (q) => {
      const w = serving()[0];
      return w === undefined ? Promise.reject(new Error('no worker is serving')) : ask(w, q);
    },
    retired: () => retired,
    scraped: (id, m) => lastScrape.set(id, m),
    workerIds: () => serving().map((w) => w.id),
    draining: () => draining,
    own: metrics.registry,
  });

  /** Fork the worker of a slot; resolves once it listens, rejects if it exits first. */
  const fork = (slot: Slot): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(slot.index) });
      slot.worker = worker;
      slot.listening = false;
      slot.startedAt = Date.now();
      worker.on('listening', (address: AddressInfo) => {
        listenAddress ??= address;
        slot.listening = true;
        countUp();
        resolve();
      });
      worker.on('exit', (code, signal) => {
        const wasListening = slot.listening;
        slot.worker = undefined;
        slot.listening = false;
        countUp();
        // Its counters stay in the sum: a worker's death must not make revenue go down.
        const last = lastScrape.get(worker.id);
        lastScrape.delete(worker.id);
        if (last !== undefined) retired.push(last.filter((m) => String(m.type) !== 'gauge'));
        if (!wasListening)
          reject(
            new Error(
              `worker ${slot.index} exited while starting (code ${code}, signal ${signal})`,
            ),
          );
        if (draining || !wasListening) return;
        const reason = signal === null ? 'exit' : 'signal';
        if (Date.now() - slot.startedAt > HEALTHY_AFTER_MS) slot.crashes = 0;
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** slot.crashes);
        slot.crashes++;
        metrics.restarted(reason);
        log.error(
          { worker: slot.index, code, signal, restartInMs: delay },
          'worker exited unexpectedly: starting it again',
        );
        setTimeout(() => {
          if (!draining)
            fork(slot).catch((err: Error) =>
              log.error({ err: err.message }, 'worker restart failed'),
            );
        }, delay).unref();
      });
    });

  const stopAll = async (): Promise<void> => {
    draining = true;
    const live = slots.flatMap((s) => (s.worker === undefined ? [] : [s.worker]));
    const exited = live.map(
      (w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))),
    );
    for (const w of live) tell(w, { x402: 'stop' });
    const deadline = setTimeout(() => {
      for (const w of live) if (!w.isDead()) w.process.kill('SIGKILL');
    }, config.server.shutdownTimeoutMs + 5_000);
    await Promise.all(exited);
    clearTimeout(deadline);
  };

  // Signals first: whoever waits for the listening line may signal at once.
  const stopped = waitForStop(undefined, undefined, () => {
    log.info('SIGHUP: every worker reloads its config');
    for (const w of serving()) tell(w, { x402: 'reload' });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      admin.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          listenError(
            err,
            config.server.admin.host,
            config.server.admin.port,
            'server.admin, the admin listener',
          ),
        ),
      );
      admin.listen(config.server.admin.port, config.server.admin.host, () => resolve());
    });
    await fork(slots[0]!);
    await Promise.all(slots.slice(1).map(fork));
  } catch (err) {
    process.stderr.write(`x402-gateway: cannot start: ${(err as Error).message}\n`);
    await stopAll();
    admin.close();
    return 1;
  }
  const adminAddress = admin.address() as AddressInfo;
  process.stdout.write(
    `x402-gateway listening on ${urlOf(listenAddress!)} (admin ${urlOf(adminAddress)}) with ${n} workers\n`,
  );
  const why = await stopped;
  log.info({ signal: why }, 'shutting down: draining every worker');
  await stopAll();
  admin.close();
  admin.closeAllConnections();
  log.info('every worker stopped');
  log.flush();
  return isFault(why) ? 1 : 0;
}

function tell(worker: Worker, message: ToWorker): void {
  if (worker.isConnected()) worker.send(message);
}

function urlOf(
  address: AddressInfo | { address: string; port: number; addressType?: number | string },
): string {
  const v6 = 'family' in address ? address.family === 'IPv6' : address.address.includes(':');
  return `http://${v6 ? `[${address.address}]` : address.address}:${address.port}`;
}
