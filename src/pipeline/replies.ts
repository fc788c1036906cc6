/**
 * Gateway-made answers. Every error is JSON `{error, reason}` with a machine-readable `reason`
 * from x402/reasons.ts; 402s also carry both challenge forms.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { RequestContext } from './context.js';
import { resourceUrl } from './request-facts.js';
import type { Deps } from './deps.js';
import type { Reply } from './stage.js';
import { CORS_EXPOSE_HEADERS, HEADER, REASON } from '../x402/index.js';
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

/**
 * `res.writeHead`, or — when node refuses a header (a value outside latin1, a control character) —
 * the connection closed. A refused writeHead leaves the response half set up (a 204's status line
 * and no-body flag stay), so a second answer on it would be framed wrongly and the next pipelined
 * response read as its body: nothing more is written on that connection. False when closed.
 */
export function writeHeadOrClose(
  ctx: RequestContext,
  deps: Deps,
  status: number,
  headers: OutgoingHttpHeaders,
): boolean {
  const res: ServerResponse = ctx.res;
  try {
    res.writeHead(status, headers);
    return true;
  } catch (error) {
    deps.log.error(
      { reqId: ctx.id, err: error, status },
      'response headers refused by node: connection closed',
    );
    ctx.outcome = 'error';
    ctx.reason = GATEWAY_REASON.internalError;
    res.destroy();
    return false;
  }
}

/** The client left before its answer: 499 in the access log and metrics (nobody reads the body). */
export function clientGoneReply(ctx: RequestContext): Reply {
  ctx.outcome = 'client_gone';
  ctx.reason = GATEWAY_REASON.clientGone;
  return errorReply(499, GATEWAY_REASON.clientGone, 'client closed the connection');
}

/** The book of record cannot write: nothing is settled without a record (fail closed, 503). */
export function ledgerUnavailableReply(ctx: RequestContext): Reply {
  ctx.outcome = 'ledger_unavailable';
  ctx.reason = REASON.ledgerUnavailable;
  return errorReply(503, REASON.ledgerUnavailable, 'the payment ledger cannot record payments', {
    'retry-after': '2',
  });
}

/** No facilitator lists the payment's network: nobody could take the money (503, never a 402). */
export function noFacilitatorReply(ctx: RequestContext, network: string): Reply {
  ctx.outcome = 'facilitator_unavailable';
  ctx.reason = GATEWAY_REASON.noFacilitatorForNetwork;
  return errorReply(
    503,
    GATEWAY_REASON.noFacilitatorForNetwork,
    `no payment facilitator supports ${network}`,
    { 'retry-after': '30' },
  );
}

/** The shared replay store cannot answer: fail closed (nothing forwarded, nothing settled). */
export function replayStoreUnavailableReply(ctx: RequestContext): Reply {
  ctx.outcome = 'facilitator_unavailable';
  ctx.reason = REASON.replayStoreUnavailable;
  return errorReply(503, REASON.replayStoreUnavailable, 'replay store unavailable', {
    'retry-after': '1',
  });
}

/**
 * The route's upstream is down: 503 with its Retry-After instead of a 402, so nobody is asked to
 * pay for a response that cannot come (and no new payment is verified or claimed).
 */
export function upstreamDownReply(ctx: RequestContext): Reply {
  ctx.outcome = 'upstream_down';
  ctx.reason = GATEWAY_REASON.upstreamDown;
  return errorReply(
    503,
    GATEWAY_REASON.upstreamDown,
    'the upstream serving this route is down: no payment is asked or taken; retry after Retry-After',
    { 'retry-after': ctx.target!.upstream.health.retryAfter },
  );
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
