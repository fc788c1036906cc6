/**
 * Stage 2: canonicalise the path, find its price, answer CORS preflights to priced routes, and
 * decide between the free fast path and the paid path.
 */
import type { IncomingHttpHeaders } from 'node:http';
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
      // Checked before use: the value is echoed in a response header, and `toUpperCase` of a
      // latin1 byte can leave latin1 (`µ` → U+039C), which writeHead refuses.
      if (!isToken(preflightMethod)) return badHeader(ctx, 'access-control-request-method');
      const priced = deps.prices.match(preflightMethod.toUpperCase(), target.matchKey);
      if (priced !== undefined && !priced.free) return preflight(ctx, preflightMethod);
    }

    const found = deps.prices.match(method, target.matchKey);
    ctx.route = found;
    const override = methodOverride(ctx.req.headers, target.search);
    if (override !== undefined && override !== method) {
      // The upstream may serve `override` instead of `method`: refused when that is another route.
      const other = isToken(override) ? deps.prices.match(override, target.matchKey) : undefined;
      if (!isToken(override) || other !== found) {
        ctx.outcome = 'bad_request';
        ctx.reason = GATEWAY_REASON.methodOverride;
        deps.log.info(
          { reqId: ctx.id, method, override: override.slice(0, 32) },
          'method override refused: it would change the route',
        );
        return errorReply(
          400,
          GATEWAY_REASON.methodOverride,
          'a method override (_method, X-HTTP-Method-Override) may not change the priced route',
        );
      }
    }
    if (found === undefined && deps.config.unpriced === 'deny') {
      ctx.outcome = 'not_found';
      ctx.reason = GATEWAY_REASON.notFound;
      return errorReply(404, GATEWAY_REASON.notFound, 'no route prices this path');
    }
    ctx.paid = found !== undefined && !found.free;
    ctx.target = found === undefined ? deps.upstreams.unpriced : deps.upstreams.routes[found.index];
    return undefined;
  },
};

/** Override headers some frameworks honour (Rails, Laravel, Symfony, Express method-override). */
const OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const;

/**
 * The method a `_method` query parameter or an override header asks for, upper-cased (the first
 * found); undefined when there is none. The forwarded request never carries the headers (see
 * request-headers.ts), but the query goes as it is, and a form body is not read here.
 */
function methodOverride(headers: IncomingHttpHeaders, search: string): string | undefined {
  for (const name of OVERRIDE_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') return value.trim().toUpperCase();
  }
  // Cheap test first: `_method` as written, or any escape (`_%6Dethod`) the upstream would decode.
  if (search.length < 8 || !/ethod|%/i.test(search)) return undefined;
  for (const [key, value] of new URLSearchParams(search)) {
    if (key.trim().toLowerCase() === '_method') return value.trim().toUpperCase();
  }
  return undefined;
}

/** RFC 9110 token (a method, a header name): visible ASCII without delimiters. */
function isToken(value: string): boolean {
  return value.length > 0 && value.length <= 64 && /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value);
}

/** A comma-separated list of tokens (Access-Control-Request-Headers), or an empty value. */
function isTokenList(value: string): boolean {
  return (
    value.length <= 2048 &&
    /^[\t ]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+[\t ]*(?:,[\t ]*|$))*$/.test(value)
  );
}

/** An Origin value (RFC 6454 serialisation, or `null`): visible ASCII, no spaces or commas. */
function isOrigin(value: string): boolean {
  return value.length <= 2048 && /^[\x21-\x2b\x2d-\x7e]+$/.test(value);
}

/** A header the gateway would read or echo is not well-formed: a clean 400, nothing echoed. */
function badHeader(ctx: RequestContext, name: string): Reply {
  ctx.outcome = 'bad_request';
  ctx.reason = GATEWAY_REASON.invalidHeader;
  return errorReply(400, GATEWAY_REASON.invalidHeader, `malformed ${name} header`);
}

/** The gateway owns CORS for the payment headers: a preflight must never meet a 402. */
function preflight(ctx: RequestContext, requestedMethod: string): Reply {
  const requested = ctx.req.headers['access-control-request-headers'];
  if (typeof requested === 'string' && !isTokenList(requested)) {
    return badHeader(ctx, 'access-control-request-headers');
  }
  const origin = ctx.req.headers.origin;
  if (typeof origin === 'string' && !isOrigin(origin)) return badHeader(ctx, 'origin');
  ctx.outcome = 'preflight';
  const allowHeaders =
    typeof requested === 'string' && requested.trim() !== ''
      ? `${requested.trim()}, ${CORS_ALLOW_HEADERS}`
      : CORS_ALLOW_HEADERS;
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
