/**
 * The body of /verify and /settle for this request: the client's payload as sent, and OUR
 * requirement in the payload's version shape (never the client's echoed copy).
 */
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import { resourceUrl } from './replies.js';
import type { FacilitatorRequest } from '../verify/types.js';
import { v1Requirements } from '../x402/challenge.js';

export function facilitatorRequest(ctx: RequestContext, deps: Deps): FacilitatorRequest {
  const offer = ctx.offer!;
  if (ctx.payload!.x402Version === 1) {
    return {
      x402Version: 1,
      paymentPayload: ctx.rawPayload,
      paymentRequirements: v1Requirements(offer, ctx.route!, resourceUrl(ctx, deps)),
    };
  }
  return { x402Version: 2, paymentPayload: ctx.rawPayload, paymentRequirements: offer.requirementsV2 };
}
