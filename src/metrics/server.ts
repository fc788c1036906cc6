/**
 * The admin listener: /metrics, /healthz and /readyz, on their own address so the paying side never
 * exposes them. /healthz is liveness (200 while the process answers). /readyz is readiness
 * (readiness.ts): 200 while the gateway can serve what it is configured to serve, with
 * `{ready, detail, paid: {ok, reasons}, checks}`; a dependency of paid routes only (facilitator,
 * ledger) turns `paid.ok` false and keeps 200; `/readyz?scope=paid` answers 503 then. Starting,
 * a failed start and draining are 503.
 *
 * `POST /ledger/reconcile` runs one pass of the gateway's own reconciler (joining one under way)
 * and answers `{"outcomes":{…}}`, the pass's count per outcome; 404 without a ledger.
 */
import http from 'node:http';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness.js';

export type { Readiness };

/** What the operator can ask of the running gateway through the admin listener. */
export interface AdminActions {
  /** One reconciliation pass (joined if one is under way): its count per outcome. */
  readonly reconcile?: (() => Promise<Readonly<Record<string, number>>>) | undefined;
}

const JSON_TYPE = { 'content-type': 'application/json' } as const;

export function createAdminServer(
  registry: Registry,
  readiness: Readiness,
  actions: AdminActions = {},
): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/ledger/reconcile') {
      reconcile(req, res, actions.reconcile);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      const scope = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('scope');
      if (scope !== null && scope !== 'all' && scope !== 'paid') {
        res
          .writeHead(400, JSON_TYPE)
          .end(JSON.stringify({ error: `unknown scope "${scope}": use scope=paid or scope=all` }));
        return;
      }
      const body = readiness.snapshot();
      const ok = scope === 'paid' ? body.ready && body.paid.ok : body.ready;
      res.writeHead(ok ? 200 : 503, JSON_TYPE).end(JSON.stringify(body));
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    }
  });
}

function reconcile(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  run: AdminActions['reconcile'],
): void {
  req.resume(); // a body, if any, means nothing here
  if (run === undefined) {
    res.writeHead(404, JSON_TYPE).end('{"error":"no ledger (ledger: false)"}');
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  run().then(
    (outcomes) => res.writeHead(200, JSON_TYPE).end(JSON.stringify({ outcomes })),
    (err: unknown) =>
      res.writeHead(500, JSON_TYPE).end(
        JSON.stringify({
          error: `reconciliation pass failed: ${err instanceof Error ? err.message : String(err)}`,
        }),
      ),
  );
}
