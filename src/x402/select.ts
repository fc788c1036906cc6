/**
 * Which of a route's offers does a payment pay? (docs/protocol.md §5, §6.2 step 3)
 *
 * v2: the client echoes the chosen requirement in `accepted`. Like the official server
 * (`paymentRequirementsMatchAccepted`), the core fields must be deep-equal, with no extra keys, and
 * our `extra` must be a subset of the echoed `extra` (clients may add fields there). All our
 * fields are exact strings/numbers as emitted, so comparisons are `===` (addresses were emitted
 * checksummed; a re-cased copy is not what we sent and does not match).
 *
 * v1: the payload carries no requirements; scheme `exact` and the v1 network name pick the offer.
 */
import { isJsonObject } from '../lib/index.js';
import type { Offer, PaymentPayload } from './types.js';

/** Keys of a v2 requirement: scheme, network, amount, asset, payTo, maxTimeoutSeconds, extra. */
const V2_REQUIREMENT_KEYS = 7;

/** Structural equality of JSON values (key order ignored). */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (!isJsonObject(a) || !isJsonObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/** Every key of `expected` is present in `actual` with an equal value. */
function isSubset(expected: object, actual: unknown): boolean {
  if (!isJsonObject(actual)) return false;
  for (const [key, value] of Object.entries(expected)) {
    if (!Object.hasOwn(actual, key) || !jsonEqual(value, actual[key])) return false;
  }
  return true;
}

function matchesV2(accepted: Readonly<Record<string, unknown>>, offer: Offer): boolean {
  const req = offer.requirementsV2;
  return (
    accepted.scheme === req.scheme &&
    accepted.network === req.network &&
    accepted.amount === req.amount &&
    accepted.asset === req.asset &&
    accepted.payTo === req.payTo &&
    accepted.maxTimeoutSeconds === req.maxTimeoutSeconds &&
    // The seven named keys are all present and equal, so seven keys in total means no stray ones.
    Object.keys(accepted).length === V2_REQUIREMENT_KEYS &&
    isSubset(req.extra, accepted.extra)
  );
}

/**
 * The offer `payload` pays, or undefined (→ `no_matching_requirements`). First match wins, in the
 * route's offer order.
 */
export function selectOffer(payload: PaymentPayload, offers: readonly Offer[]): Offer | undefined {
  if (payload.x402Version === 2) {
    const accepted = payload.accepted;
    for (const offer of offers) {
      if (matchesV2(accepted, offer)) return offer;
    }
    return undefined;
  }
  if (payload.scheme !== 'exact') return undefined;
  for (const offer of offers) {
    if (payload.network === offer.network.v1Name) return offer;
  }
  return undefined;
}
