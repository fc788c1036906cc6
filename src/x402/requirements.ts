/**
 * The gateway's own payment requirements in each wire version, derived from one `Offer`
 * (docs/protocol.md §3.1, §4.2), and the body of a facilitator `/verify` or `/settle` call (§7.1).
 * The facilitator always gets OUR requirements in the payload version's shape, never the
 * client's `accepted` copy.
 */
import type {
  Offer,
  PaymentPayload,
  PaymentRequirementsV1,
  PaymentRequirementsV2,
  Resource,
} from './types.js';

/**
 * v1 PaymentRequirements for `offer` at `resourceUrl`. Field order follows x402-express.
 * `outputSchema` (v1 Bazaar discovery) is present only when the resource names a method.
 */
export function v1Requirements(
  offer: Offer,
  resource: Resource,
  resourceUrl: string,
): PaymentRequirementsV1 {
  // One literal rather than spreads of shared parts (this runs on every v1 paid request, and the
  // spreads cost ~2.5 µs of it in a CPU profile under load). A resource without a method gets
  // `outputSchema: undefined`, which JSON leaves out.
  return {
    scheme: 'exact',
    network: offer.network.v1Name,
    maxAmountRequired: offer.amountText,
    resource: resourceUrl,
    description: resource.description,
    mimeType: resource.mimeType,
    outputSchema:
      resource.method === null
        ? undefined
        : { input: { type: 'http', method: resource.method, discoverable: true }, output: null },
    payTo: offer.payTo,
    maxTimeoutSeconds: offer.maxTimeoutSeconds,
    asset: offer.asset.address,
    extra: offer.requirementsV2.extra,
  };
}

/** Body of POST /verify and POST /settle; structurally the `FacilitatorRequest` of verify/types.ts. */
export type FacilitatorRequestBody =
  | {
      readonly x402Version: 1;
      readonly paymentPayload: unknown;
      readonly paymentRequirements: PaymentRequirementsV1;
    }
  | {
      readonly x402Version: 2;
      readonly paymentPayload: unknown;
      readonly paymentRequirements: PaymentRequirementsV2;
    };

/**
 * Build the facilitator request for a decoded payment.
 *
 * @param payload the decoded payload (its version picks the requirements' shape)
 * @param raw the JSON exactly as the client sent it (`DecodeResult.raw`), forwarded untouched
 * @param offer the offer `selectOffer` matched
 * @param resource the priced resource (v1 requirements carry its description and method)
 * @param resourceUrl the same URL the challenge used; called for v1 only (its requirements carry it,
 *   v2's are precomputed per offer)
 */
export function facilitatorRequest(
  payload: PaymentPayload,
  raw: unknown,
  offer: Offer,
  resource: Resource,
  resourceUrl: () => string,
): FacilitatorRequestBody {
  return payload.x402Version === 1
    ? {
        x402Version: 1,
        paymentPayload: raw,
        paymentRequirements: lastV1Requirements(offer, resource, resourceUrl()),
      }
    : { x402Version: 2, paymentPayload: raw, paymentRequirements: offer.requirementsV2 };
}

/**
 * v1 requirements carry the request's resource URL, which is the same for every request to a
 * resource behind one host name: the last one built per offer is reused when the URL matches, so (like v2's)
 * the object, and its serialised text in the facilitator client, are shared across requests. One
 * entry per offer: a client varying its Host header only costs a rebuild.
 */
interface LastV1 {
  readonly resource: Resource;
  readonly url: string;
  readonly requirements: PaymentRequirementsV1;
}
const lastV1 = new WeakMap<Offer, LastV1>();
function lastV1Requirements(offer: Offer, resource: Resource, url: string): PaymentRequirementsV1 {
  const last = lastV1.get(offer);
  if (last !== undefined && last.url === url && last.resource === resource)
    return last.requirements;
  // Frozen like v2's: the object is shared by every request it serves.
  const requirements = Object.freeze(v1Requirements(offer, resource, url));
  lastV1.set(offer, { resource, url, requirements });
  return requirements;
}
