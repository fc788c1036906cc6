/**
 * The admin listener: /metrics, /healthz and /readyz, on their own address so the paying side never
 * exposes them. /readyz turns 200 once config is loaded and the facilitator's /supported answered;
 * a later facilitator blip shows in metrics, it does not flip readiness.
 *
 * `POST /ledger/reconcile` runs one pass of the gateway's own reconciler (joining one under way)
 * and answers `{"outcomes":{…}}`, the pass's count per outcome; 404 without a ledger.
 */
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface Readiness {
  ready: boolean;
  detail: string;
  /**
   * Whether paid requests can be served (the ledger writes); free routes are served either way,
   * so this does not turn the whole gateway unready.
   */
  paid?: () => { readonly ready: boolean; readonly detail: string };
}

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
      res.writeHead(readiness.ready ? 200 : 503, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          ready: readiness.ready,
          detail: readiness.detail,
          ...(readiness.paid === undefined ? {} : { paid: readiness.paid() }),
        }),
      );
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
