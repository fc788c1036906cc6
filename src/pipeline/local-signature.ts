/**
 * The verify stage's use of the local signature check (verify/local-check.ts): while verify
 * failures run high, gateway-wide or for this client, a forged signature is refused here, with
 * the answer a facilitator would give, and no facilitator call.
 */
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import { addressKey } from './client-address.js';
import { REASON, type VerifyResponse } from '../x402/index.js';
import type { LocalCheckInput } from '../verify/index.js';

/** The client address the failure ratio is kept for: admit's key (proxy-aware), else the peer. */
export function checkClient(ctx: RequestContext): string {
  return ctx.clientKey !== '' ? ctx.clientKey : addressKey(ctx.req.socket.remoteAddress ?? '');
}

/**
 * The refusal to answer with, when the check is armed and proves the signature is not `from`'s;
 * undefined sends the payment on to the facilitator.
 */
export async function refuseLocally(
  ctx: RequestContext,
  deps: Deps,
): Promise<VerifyResponse | undefined> {
  const check = deps.signatureCheck;
  if (check === undefined) return undefined;
  const client = checkClient(ctx);
  if (!check.armed(client)) return undefined;
  const verdict = await check.check(checkInput(ctx));
  deps.metrics.signatureChecks.labels(verdict).inc();
  if (verdict !== 'refused') return undefined;
  check.record(client, false);
  return {
    isValid: false,
    invalidReason: REASON.invalidSignature,
    payer: ctx.payload!.payload.authorization.from,
  };
}

/** Did `from`'s own key sign this payment (recovered locally)? False when it cannot be proven. */
export function signedByFrom(ctx: RequestContext, deps: Deps): boolean {
  return deps.signatureCheck?.signedByFrom(checkInput(ctx)) ?? false;
}

/** The payment as the local check reads it. */
function checkInput(ctx: RequestContext): LocalCheckInput {
  const offer = ctx.offer!;
  const { signature, authorization } = ctx.payload!.payload;
  return {
    network: offer.network.caip2,
    // Our own offer's domain, as the facilitator is given our requirements, never the client's.
    domain: {
      name: offer.requirementsV2.extra.name,
      version: offer.requirementsV2.extra.version,
      chainId: offer.network.chainId,
      verifyingContract: offer.asset.address,
    },
    authorization,
    signature,
  };
}
