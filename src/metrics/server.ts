/**
 * The admin listener: /metrics, /healthz and /readyz, on their own address so the paying side never
 * exposes them. /readyz turns 200 once config is loaded and the facilitator's /supported answered;
 * a later facilitator blip shows in metrics, it does not flip readiness.
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

export function createAdminServer(registry: Registry, readiness: Readiness): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
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
