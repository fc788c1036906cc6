/**
 * What the client asked for, as the client sees it: the host and scheme it addressed and the
 * resource URL of a priced request. Computed from the client's own request at routing (`route`
 * sets `ctx.host` and `ctx.proto`), before anything is forwarded, so a challenge, a facilitator
 * request and the upstream's X-Forwarded-* all name the same resource, and the upstream's address
 * never reaches a client.
 */
import type { IncomingMessage } from 'node:http';
import type { ServerConfig } from '../config/index.js';
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';

/** The resource URL of this request: publicUrl (else the client's scheme and host) + path + query. */
export function resourceUrl(ctx: RequestContext, deps: Deps): string {
  if (ctx.resourceUrlCache !== undefined) return ctx.resourceUrlCache;
  const base = deps.config.server.publicUrl ?? `${ctx.proto}://${ctx.host}`;
  ctx.resourceUrlCache = base + ctx.path + ctx.search;
  return ctx.resourceUrlCache;
}

/** The scheme the client used: X-Forwarded-Proto behind a trusted proxy, else the socket's. */
export function clientProto(req: IncomingMessage, server: ServerConfig): 'http' | 'https' {
  if (server.trustProxy) {
    const fwd = req.headers['x-forwarded-proto'];
    if (typeof fwd === 'string') {
      const first = fwd.split(',')[0]?.trim().toLowerCase();
      if (first === 'https' || first === 'http') return first;
    }
  }
  return 'encrypted' in req.socket && req.socket.encrypted === true ? 'https' : 'http';
}

/** The host the client addressed: X-Forwarded-Host behind a trusted proxy, else Host, else ours. */
export function clientHost(req: IncomingMessage, server: ServerConfig): string {
  if (server.trustProxy) {
    const fwd = req.headers['x-forwarded-host'];
    if (typeof fwd === 'string' && fwd !== '') return fwd.split(',')[0]!.trim();
  }
  const host = req.headers.host;
  if (host !== undefined && host !== '') return host;
  const { host: h, port } = server.listen;
  return `${h}:${port}`;
}
