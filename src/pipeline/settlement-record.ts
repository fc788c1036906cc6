/**
 * The ledger's facts of this request's payment (src/payment/record-facts.ts): a recalled payment's
 * own record, else built from the request. The `/settle` body is the text the facilitator client
 * sends (serialised once).
 */
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import { facilitatorRequest } from './facilitator-request.js';
import type { PaymentFacts as RecordFacts } from '../ledger/index.js';
import { recordFacts } from '../payment/index.js';
import { requestBody } from '../verify/index.js';

export function settlementRecord(ctx: RequestContext, deps: Deps): RecordFacts {
  return (
    ctx.recalled?.record ??
    recordFacts({
      key: ctx.replayKey,
      digest: ctx.digestOf(),
      route: ctx.route!.id,
      method: ctx.req.method ?? 'GET',
      path: ctx.path + ctx.search,
      offer: ctx.offer!,
      payer: ctx.auth!.from,
      nonce: ctx.auth!.nonce,
      validBefore: ctx.auth!.validBefore,
      x402Version: ctx.payload!.x402Version,
      request: requestBody(facilitatorRequest(ctx, deps)),
    })
  );
}
