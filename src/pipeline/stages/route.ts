/**
 * Stage 2: canonicalise the path, find its price, answer CORS preflights to priced routes, and
 * decide between the free fast path and the paid path.
 */
import type { RequestContext } from '../context.js';
import type { Reply, Stage } from '../stage.js';
import { errorReply } from '../replies.js';
import { canonicalizeTarget } from '../../pricing/index.js';
import { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS } from '../../x402/index.js';
import { GATEWAY_REASON } from '../reasons.js';
import { clientHost, clientProto } from '../request-facts.js';

export const route: Stage = {
  name: 'route',
  paidOnly: false,
  run(ctx, deps) {
    const target = canonicalizeTarget(ctx.req.url ?? '');
    if (!target.ok) {
      ctx.outcome = 'bad_request';
      ctx.reason = GATEWAY_REASON.invalidPath;
      return errorReply(400, GATEWAY_REASON.invalidPath, 'request path is not acceptable');
    }
    ctx.path = target.path;
    ctx.search = target.search;
    ctx.matchKey = target.matchKey;
    ctx.host = clientHost(ctx.req, deps.config.server);
    ctx.proto = clientProto(ctx.req, deps.config.server);
    const method = ctx.req.method ?? 'GET';

    const preflightMethod = ctx.req.headers['access-control-request-method'];
    if (method === 'OPTIONS' && typeof preflightMethod === 'string') {
      const priced = deps.prices.match(preflightMethod.toUpperCase(), target.matchKey);
      if (priced !== undefined && !priced.free) return preflight(ctx, preflightMethod);
    }

    const found = deps.prices.match(method, target.matchKey);
    ctx.route = found;
    if (found === undefined && deps.config.unpriced === 'deny') {
      ctx.outcome = 'not_found';
      ctx.reason = GATEWAY_REASON.notFound;
      return errorReply(404, GATEWAY_REASON.notFound, 'no route prices this path');
    }
    ctx.paid = found !== undefined && !found.free;
    return undefined;
  },
};

/** The gateway owns CORS for the payment headers: a preflight must never meet a 402. */
function preflight(ctx: RequestContext, requestedMethod: string): Reply {
  ctx.outcome = 'preflight';
  const requested = ctx.req.headers['access-control-request-headers'];
  const allowHeaders =
    typeof requested === 'string' && requested !== ''
      ? `${requested}, ${CORS_ALLOW_HEADERS}`
      : CORS_ALLOW_HEADERS;
  const origin = ctx.req.headers.origin;
  return {
    status: 204,
    headers: {
      'access-control-allow-origin': typeof origin === 'string' ? origin : '*',
      'access-control-allow-methods': `${requestedMethod.toUpperCase()}, OPTIONS`,
      'access-control-allow-headers': allowHeaders,
      'access-control-expose-headers': CORS_EXPOSE_HEADERS,
      'access-control-max-age': '600',
      vary: 'Origin',
    },
    body: '',
  };
}
