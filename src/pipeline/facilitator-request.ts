/**
 * The body of /verify and /settle for this request: the client's payload as sent, and OUR
 * requirement in the payload's version shape (never the client's echoed copy).
 */
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import { resourceUrl } from './request-facts.js';
import type { FacilitatorRequest } from '../verify/index.js';
import { facilitatorRequest as buildRequest } from '../x402/index.js';

/** Built once per request: verify, settle and a settle retry all send this same object. */
export function facilitatorRequest(ctx: RequestContext, deps: Deps): FacilitatorRequest {
  ctx.facilitatorRequest ??= buildRequest(
    ctx.payload!,
    ctx.rawPayload,
    ctx.offer!,
    ctx.route!.resource,
    () => resourceUrl(ctx, deps),
  );
  return ctx.facilitatorRequest;
}
