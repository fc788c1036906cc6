/**
 * Gateway-made answers. Every error is JSON `{error, reason}` with a machine-readable `reason`
 * from x402/reasons.ts; 402s also carry both challenge forms.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import type { Reply } from './stage.js';
import { CORS_EXPOSE_HEADERS, HEADER } from '../x402/index.js';
import { GATEWAY_REASON } from './reasons.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON error answer: `{"error": message, "reason": reason}`. */
export function errorReply(
  status: number,
  reason: string,
  message: string,
  extra: OutgoingHttpHeaders = {},
): Reply {
  return {
    status,
    headers: {
      'content-type': JSON_TYPE,
      'cache-control': 'no-store',
      'access-control-expose-headers': CORS_EXPOSE_HEADERS,
      ...extra,
    },
    body: JSON.stringify({ error: message, reason }),
  };
}

/** The client left before its answer: 499 in the access log and metrics (nobody reads the body). */
export function clientGoneReply(ctx: RequestContext): Reply {
  ctx.outcome = 'client_gone';
  ctx.reason = GATEWAY_REASON.clientGone;
  return errorReply(499, GATEWAY_REASON.clientGone, 'client closed the connection');
}

/** The resource URL of this request: publicUrl (else the request's scheme and Host) + path + query. */
export function resourceUrl(ctx: RequestContext, deps: Deps): string {
  if (ctx.resourceUrlCache !== undefined) return ctx.resourceUrlCache;
  const base =
    deps.config.server.publicUrl ?? `${requestProto(ctx, deps)}://${requestHost(ctx, deps)}`;
  ctx.resourceUrlCache = base + ctx.path + ctx.search;
  return ctx.resourceUrlCache;
}

export function requestProto(ctx: RequestContext, deps: Deps): 'http' | 'https' {
  if (deps.config.server.trustProxy) {
    const fwd = ctx.req.headers['x-forwarded-proto'];
    if (typeof fwd === 'string') {
      const first = fwd.split(',')[0]?.trim().toLowerCase();
      if (first === 'https' || first === 'http') return first;
    }
  }
  return 'encrypted' in ctx.req.socket && ctx.req.socket.encrypted === true ? 'https' : 'http';
}

export function requestHost(ctx: RequestContext, deps: Deps): string {
  if (deps.config.server.trustProxy) {
    const fwd = ctx.req.headers['x-forwarded-host'];
    if (typeof fwd === 'string' && fwd !== '') return fwd.split(',')[0]!.trim();
  }
  const host = ctx.req.headers.host;
  if (host !== undefined && host !== '') return host;
  const { host: h, port } = deps.config.server.listen;
  return `${h}:${port}`;
}

/**
 * 402 with the v2 PAYMENT-REQUIRED header and the v1 JSON body, both from the route's precomputed
 * challenge. `reason` (when set) becomes the challenge's `error`.
 */
export function challengeReply(
  ctx: RequestContext,
  deps: Deps,
  reason: string | undefined,
  extra: OutgoingHttpHeaders = {},
): Reply {
  const challenge = ctx.route === undefined ? undefined : deps.challenges.get(ctx.route);
  if (challenge === undefined) {
    // A priced route always has a challenge (built at start-up): reaching here is a bug.
    return errorReply(500, GATEWAY_REASON.internalError, 'internal error');
  }
  const rendered = challenge.render(resourceUrl(ctx, deps), reason);
  return {
    status: 402,
    headers: {
      'content-type': JSON_TYPE,
      'cache-control': 'no-store',
      'access-control-allow-origin': '*',
      'access-control-expose-headers': CORS_EXPOSE_HEADERS,
      [HEADER.paymentRequired]: rendered.headerValue,
      ...extra,
    },
    body: rendered.body,
  };
}
