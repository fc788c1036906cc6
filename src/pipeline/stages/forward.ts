/**
 * Stage 9: send the request upstream (canonical path, cleaned headers) and wait for its status and
 * headers. Upstream failure means no money moves: the claim is released.
 */
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { RequestContext } from '../context.js';
import type { Deps } from '../deps.js';
import type { Reply, Stage, StageResult } from '../stage.js';
import { clientGoneReply, errorReply } from '../replies.js';
import {
  BodyTooLargeError,
  type ForwardResult,
  rewritePath,
  upstreamHeaders,
  type UpstreamRequest,
} from '../../proxy/index.js';
import { statusClass } from '../../metrics/index.js';
import { GATEWAY_REASON } from '../reasons.js';
import { keepArriving } from '../body-deadline.js';
import { takeBody } from '../refused-body.js';

export const forward: Stage = {
  name: 'forward',
  paidOnly: false,
  run(ctx, deps) {
    const { req } = ctx;
    if (ctx.clientGone) return clientLeft(ctx);
    const offer = ctx.offer;
    const target = ctx.target!;
    const upstream = target.upstream;
    // Read from the client's framing headers, which the cleaned set drops (Transfer-Encoding is hop-by-hop).
    const limits = deps.config.server.limits;
    takeBody(req, ctx.res); // its 100 Continue, if the client waits for one (refused-body.ts)
    const body = requestBody(req, limits.maxBodyBytes, limits.bodyIdleTimeoutMs);
    // A description of the upstream request; the client's `req` stays as the client sent it.
    const request: UpstreamRequest = {
      method: req.method ?? 'GET',
      // The upstream sees the canonical spelling, so no variant of a priced path reaches it unpaid.
      // A route's rewrite changes the path the upstream sees (pricing matched the client's path).
      path:
        (target.rewrite === undefined ? ctx.path : rewritePath(ctx.path, target.rewrite)) +
        ctx.search,
      headers: upstreamHeaders(
        req.headers,
        {
          clientIp: req.socket.remoteAddress ?? '',
          host: ctx.host,
          proto: ctx.proto,
          requestId: ctx.id,
        },
        ctx.paid && offer !== undefined
          ? { payer: ctx.payer ?? '', amount: offer.amountText, network: offer.network.caip2 }
          : undefined,
        deps.config.server,
        upstream.edits,
      ),
    };

    const started = performance.now();
    return new Promise<StageResult>((resolve) => {
      upstream.forwarder.forward(request, ctx.res, body, (result) => {
        ctx.upstreamMs = performance.now() - started;
        const routeId = ctx.route?.id ?? 'unpriced';
        deps.metrics.upstreamDuration.labels(routeId).observe(ctx.upstreamMs / 1000);
        if (result.kind === 'response') {
          const status = result.response.status;
          if (status >= 500 && upstream.health.count5xx) {
            upstream.health.failed(clientOf(ctx), `${status}`);
          } else upstream.health.succeeded();
          deps.metrics.upstreamResponses.labels(routeId, statusClass(status)).inc();
          ctx.upstream = result.response;
          ctx.payment?.forwarded();
          resolve(undefined);
        } else {
          // Only a failure with the client's whole request in hand is the upstream's: one whose
          // body is still arriving (stalled, or cut by the client) may be the client's doing.
          if (req.complete) {
            if (result.error === 'unavailable') upstream.health.connectFailed(result.detail);
            else if (result.error === 'timeout') upstream.health.failed(clientOf(ctx), 'timeout');
          }
          resolve(upstreamFailed(ctx, deps, result));
        }
      });
    });
  },
};

/** The client address a failure is counted for (admit's key; the socket peer before it). */
function clientOf(ctx: RequestContext): string {
  return ctx.clientKey !== '' ? ctx.clientKey : (ctx.req.socket.remoteAddress ?? '');
}

async function clientLeft(ctx: RequestContext): Promise<Reply> {
  await ctx.payment?.release();
  return clientGoneReply(ctx);
}

/** No upstream response: no money moves, so the payment is released. */
async function upstreamFailed(
  ctx: RequestContext,
  deps: Deps,
  result: Extract<ForwardResult, { kind: 'error' }>,
): Promise<Reply> {
  await ctx.payment?.release();
  switch (result.error) {
    case 'timeout':
      ctx.outcome = 'upstream_error';
      ctx.reason = GATEWAY_REASON.upstreamTimeout;
      return errorReply(504, GATEWAY_REASON.upstreamTimeout, 'upstream did not answer in time');
    case 'body_too_large':
      ctx.outcome = 'bad_request';
      ctx.reason = GATEWAY_REASON.payloadTooLarge;
      return errorReply(413, GATEWAY_REASON.payloadTooLarge, 'request body too large');
    case 'body_timeout':
      ctx.outcome = 'bad_request';
      ctx.reason = GATEWAY_REASON.bodyTimeout;
      deps.log.info({ reqId: ctx.id, detail: result.detail }, 'request body stalled');
      // The rest of the body is not coming: the connection cannot carry another request.
      return errorReply(408, GATEWAY_REASON.bodyTimeout, result.detail, { connection: 'close' });
    case 'client_gone':
      return clientGoneReply(ctx);
    case 'unavailable':
      ctx.outcome = 'upstream_error';
      ctx.reason = GATEWAY_REASON.upstreamUnavailable;
      deps.log.warn({ reqId: ctx.id, detail: result.detail }, 'upstream unavailable');
      return errorReply(502, GATEWAY_REASON.upstreamUnavailable, 'upstream unavailable');
  }
}

/**
 * The body to send upstream, by the request's own framing (RFC 9112 §6.3), whatever the method: a
 * request with neither a Content-Length nor a transfer coding has none. A chunked body is counted
 * as it streams (a Content-Length was checked in admit). The forwarder gets a stream in front of
 * `req`, never `req`: abandoning an upstream request destroys its body stream, and destroying a
 * half-read `req` would reset the client's connection before it hears why.
 */
function requestBody(req: IncomingMessage, maxBytes: number, idleMs: number): Readable | undefined {
  const length = req.headers['content-length'];
  if (length === '0' || (length === undefined && req.headers['transfer-encoding'] === undefined))
    return undefined;
  const body = req.pipe(new ByteLimit(maxBytes));
  keepArriving(req, body, idleMs);
  return body;
}

/** Passes bytes through until `max`, then fails with BodyTooLargeError. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) done(new BodyTooLargeError(`request body over ${this.max} bytes`));
    else done(null, chunk);
  }
}
