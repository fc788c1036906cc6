/**
 * Stage 11: send the upstream's response: its status, its headers minus hop-by-hop ones, and — on a
 * paid route — the settlement header. Only reached once settlement succeeded (or nothing was owed).
 */
import { HANDLED, type Stage } from '../stage.js';
import { keepReading, responseHeaders } from '../../proxy/index.js';
import { CORS_EXPOSE_HEADERS } from '../../x402/index.js';
import { writeHeadOrClose } from '../replies.js';

export const respond: Stage = {
  name: 'respond',
  paidOnly: false,
  run(ctx, deps) {
    const upstream = ctx.upstream!;
    const { res } = ctx;
    // The client is told the gateway's address, never the upstream's (see request-facts.ts).
    const target = ctx.target!;
    const headers = responseHeaders(upstream.headers, {
      upstream: target.upstream.url,
      public: deps.config.server.publicUrl ?? `${ctx.proto}://${ctx.host}`,
      rewrite: target.rewrite,
    });
    headers['x-request-id'] = ctx.id;
    if (ctx.settlementHeader !== undefined) {
      headers[ctx.settlementHeader.name] = ctx.settlementHeader.value;
      headers['access-control-expose-headers'] = CORS_EXPOSE_HEADERS;
      // A paid response is the payer's alone: shared caches must not serve it to someone else.
      const cc = headers['cache-control'];
      headers['cache-control'] =
        typeof cc === 'string' && cc !== '' && !/\bprivate\b/i.test(cc)
          ? `${cc}, private`
          : (cc ?? 'private');
    }
    if (ctx.outcome === 'pending') ctx.outcome = 'served';
    if (!writeHeadOrClose(ctx, deps, upstream.status, headers)) {
      upstream.discard();
      return HANDLED;
    }
    if (ctx.bufferedBody !== undefined) {
      res.end(ctx.bufferedBody);
      keepReading(res, deps.config.server.limits.writeIdleTimeoutMs);
    } else upstream.pipeTo(res);
    return HANDLED;
  },
};
