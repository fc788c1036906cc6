/**
 * The admin listener of a cluster's primary (server.workers > 1): the workers have none, so one
 * scrape here shows the whole process.
 * - /metrics: every worker's series (asked over IPC) merged with prom-client's aggregators (counters
 *   and histograms summed; each gauge declares how: a worker's own state is summed, one read from
 *   shared state takes the max or min, never a sum), plus the primary's own series. A worker that
 *   exited leaves its counters behind (its last scrape), so a sum never goes down when one dies.
 * - /readyz: ready while every configured worker serves and each is ready; the paid section joins
 *   the workers' reasons. /healthz: the primary answers.
 * - POST /ledger/reconcile: one pass on one worker (the book is shared: one pass is the fleet's).
 */
import http from 'node:http';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { ReadyzBody } from '../../metrics/index.js';
import type { Question, WorkerMetrics } from './messages.js';

export interface PrimaryAdminSource {
  readonly configured: number;
  /** Ask every serving worker; answers in worker order (a worker that failed to answer: an Error). */
  askAll(question: Question): Promise<Array<unknown>>;
  /** Ask one serving worker, or reject when none serves. */
  askOne(question: Question): Promise<unknown>;
  /** Counters and histograms of workers that exited (their last scrape). */
  retired(): WorkerMetrics[];
  /** Remember a worker's last scrape (by its id), for when it exits. */
  scraped(id: number, metrics: WorkerMetrics): void;
  readonly workerIds: () => number[];
  readonly draining: () => boolean;
  readonly own: Registry;
}

const JSON_TYPE = { 'content-type': 'application/json' } as const;

export function createPrimaryAdmin(source: PrimaryAdminSource): http.Server {
  return http.createServer((req, res) => {
    const [path, query = ''] = (req.url ?? '/').split('?');
    if (path === '/ledger/reconcile') {
      req.resume();
      if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
      source.askOne('reconcile').then(
        (outcomes) => res.writeHead(200, JSON_TYPE).end(JSON.stringify({ outcomes })),
        (err: Error) =>
          res
            .writeHead(500, JSON_TYPE)
            .end(JSON.stringify({ error: `reconciliation pass failed: ${err.message}` })),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    }
    if (path === '/healthz') {
      res.writeHead(200, JSON_TYPE).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      const scope = new URLSearchParams(query).get('scope');
      if (scope !== null && scope !== 'all' && scope !== 'paid') {
        res
          .writeHead(400, JSON_TYPE)
          .end(JSON.stringify({ error: `unknown scope "${scope}": use scope=paid or scope=all` }));
        return;
      }
      void readiness(source).then((body) => {
        const ok = scope === 'paid' ? body.ready && body.paid.ok : body.ready;
        res.writeHead(ok ? 200 : 503, JSON_TYPE).end(JSON.stringify(body));
      });
    } else if (path === '/metrics') {
      metrics(source).then(
        (text) => res.writeHead(200, { 'content-type': source.own.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, JSON_TYPE).end('{"error":"not found"}');
    }
  });
}

async function metrics(source: PrimaryAdminSource): Promise<string> {
  const ids = source.workerIds();
  const answers = await source.askAll('metrics');
  const live: WorkerMetrics[] = [];
  answers.forEach((a, i) => {
    if (a instanceof Error) return;
    live.push(a as WorkerMetrics);
    source.scraped(ids[i]!, a as WorkerMetrics);
  });
  const all = [...live, ...source.retired(), await source.own.getMetricsAsJSON()];
  return AggregatorRegistry.aggregate(all).metrics();
}

/** Every worker's readiness, joined: one not serving or not ready makes the whole not ready. */
export async function readiness(source: PrimaryAdminSource): Promise<ReadyzBody> {
  const answers = source.draining() ? [] : await source.askAll('readyz');
  const bodies = answers.filter((a): a is ReadyzBody => !(a instanceof Error));
  const up = bodies.length;
  const workersOk = up === source.configured && !source.draining();
  const workersDetail = source.draining()
    ? 'draining'
    : `${up} of ${source.configured} workers serving`;
  const notReady = bodies.filter((b) => !b.ready).map((b) => b.detail);
  const ready = workersOk && notReady.length === 0;
  const paidReasons = [...new Set(bodies.flatMap((b) => b.paid.reasons))];
  if (!workersOk) paidReasons.unshift(`workers: ${workersDetail}`);
  const paidOk = ready && paidReasons.length === 0;
  const checks: Record<string, ReadyzBody['checks'][string]> = {
    workers: { ok: workersOk, affects: 'all', detail: workersDetail },
  };
  // Each check as the workers see it: failing if any worker's fails (with that worker's detail).
  for (const body of bodies) {
    for (const [name, check] of Object.entries(body.checks)) {
      const seen = checks[name];
      if (seen === undefined || (seen.ok && !check.ok)) checks[name] = check;
    }
  }
  const detail = ready
    ? 'ok'
    : [workersOk ? undefined : workersDetail, ...notReady].filter(Boolean).join('; ');
  return {
    ready,
    detail,
    paid: {
      ok: paidOk,
      reasons: paidReasons,
      ready: paidOk,
      detail: paidOk ? 'ok' : paidReasons.join('; '),
    },
    checks,
  };
}
