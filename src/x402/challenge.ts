/**
 * The 402 challenge of a priced route: the v2 `PAYMENT-REQUIRED` header and the v1 JSON body,
 * both from the route's offers (docs/protocol.md §6.2, step 1).
 *
 * Hot path: everything except the resource URL and the error text is serialised once, in
 * `createChallenge`. `render` concatenates the precomputed fragments around `JSON.stringify(url)`
 * and `JSON.stringify(error)`; the output is byte-identical to `JSON.stringify` of the full object
 * because the fragments were cut out of exactly that string.
 */
import { Buffer } from 'node:buffer';
import { v1Requirements } from './requirements.js';
import type { Offer, Resource } from './types.js';

export { v1Requirements };

/** `error` of the v2 PaymentRequired when no reason is given (same text as the official server). */
export const DEFAULT_V2_ERROR = 'Payment required';
/** `error` of the v1 body when no reason is given (same text as x402-express). */
export const DEFAULT_V1_ERROR = 'X-PAYMENT header is required';

export interface ChallengeParts {
  /** Value of `PAYMENT-REQUIRED`: base64 of the v2 PaymentRequired JSON. */
  readonly headerValue: string;
  /** The 402 body: v1 PaymentRequirementsResponse JSON (`Content-Type: application/json`). */
  readonly body: string;
}

export interface Challenge {
  readonly routeId: string;
  /**
   * @param resourceUrl absolute URL of the requested resource (v2 `resource.url`, v1 `resource`)
   * @param error a reason from ./reasons.ts (also copied to `reason` in the v1 body), a message,
   *   or undefined for the plain challenge
   */
  render(resourceUrl: string, error: string | undefined): ChallengeParts;
}

/** A snake_case machine code (ours or a facilitator's) rather than a sentence. */
const REASON_SHAPE = /^[a-z][a-z0-9_]{0,127}$/;

// Placeholders put into the documents before serialising, then cut out. NUL never appears in
// JSON.stringify output unescaped, and the quoted forms are searched for, so a config string can
// only collide by being exactly equal to a token, which compileTemplate detects.
const SLOT_URL = '\u0000x402:url\u0000';
const SLOT_ERROR = '\u0000x402:error\u0000';
type Slot = 0 | 1;
const URL_SLOT: Slot = 0;
const ERROR_SLOT: Slot = 1;
const QUOTED_SLOTS: readonly (readonly [Slot, string])[] = [
  [URL_SLOT, JSON.stringify(SLOT_URL)],
  [ERROR_SLOT, JSON.stringify(SLOT_ERROR)],
];

interface Template {
  /** Literal JSON text; `parts.length === slots.length + 1`. */
  readonly parts: readonly string[];
  /** Which value fills the gap after `parts[i]`. */
  readonly slots: readonly Slot[];
}

function compileTemplate(doc: object, urlSlots: number, errorSlots: number): Template {
  const json = JSON.stringify(doc);
  const parts: string[] = [];
  const slots: Slot[] = [];
  let from = 0;
  for (;;) {
    let at = -1;
    let which: Slot = URL_SLOT;
    let width = 0;
    for (const [slot, token] of QUOTED_SLOTS) {
      const pos = json.indexOf(token, from);
      if (pos !== -1 && (at === -1 || pos < at)) {
        at = pos;
        which = slot;
        width = token.length;
      }
    }
    if (at === -1) break;
    parts.push(json.slice(from, at));
    slots.push(which);
    from = at + width;
  }
  parts.push(json.slice(from));
  const foundUrl = slots.filter((s) => s === URL_SLOT).length;
  if (foundUrl !== urlSlots || slots.length - foundUrl !== errorSlots) {
    throw new Error('challenge template: a route string collides with a placeholder');
  }
  return { parts, slots };
}

/** Concatenate the template around the JSON-encoded values (`[url, error]`). */
function fill(t: Template, values: readonly [string, string]): string {
  const { parts, slots } = t;
  let out = parts[0] ?? '';
  for (let i = 0; i < slots.length; i++) {
    out += values[slots[i] ?? URL_SLOT] + (parts[i + 1] ?? '');
  }
  return out;
}

/**
 * Precompute the challenge of a priced resource. Call once per route at start-up.
 * Throws for a resource without offers (a free route has no challenge): that is a wiring bug.
 */
export function createChallenge(resource: Resource, offers: readonly Offer[]): Challenge {
  if (offers.length === 0) {
    throw new Error(`createChallenge: route ${resource.id} has no offers`);
  }

  const v2 = compileTemplate(
    {
      x402Version: 2,
      error: SLOT_ERROR,
      resource: { url: SLOT_URL, description: resource.description, mimeType: resource.mimeType },
      accepts: offers.map((o) => o.requirementsV2),
    },
    1,
    1,
  );
  const v1Accepts = offers.map((o) => v1Requirements(o, resource, SLOT_URL));
  const v1Plain = compileTemplate(
    { x402Version: 1, error: SLOT_ERROR, accepts: v1Accepts },
    offers.length,
    1,
  );
  const v1WithReason = compileTemplate(
    { x402Version: 1, error: SLOT_ERROR, reason: SLOT_ERROR, accepts: v1Accepts },
    offers.length,
    2,
  );
  const v2Default = JSON.stringify(DEFAULT_V2_ERROR);
  const v1Default = JSON.stringify(DEFAULT_V1_ERROR);

  return {
    routeId: resource.id,
    render(resourceUrl: string, error: string | undefined): ChallengeParts {
      const url = JSON.stringify(resourceUrl);
      if (error === undefined) {
        return {
          headerValue: Buffer.from(fill(v2, [url, v2Default]), 'utf8').toString('base64'),
          body: fill(v1Plain, [url, v1Default]),
        };
      }
      const err = JSON.stringify(error);
      return {
        headerValue: Buffer.from(fill(v2, [url, err]), 'utf8').toString('base64'),
        body: fill(REASON_SHAPE.test(error) ? v1WithReason : v1Plain, [url, err]),
      };
    },
  };
}
