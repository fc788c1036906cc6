/**
 * RouteSpec[] → PricedRoute records (offers precomputed and frozen) and a segment trie to match
 * them. Everything here runs once at start-up; match.ts only walks what this builds.
 */
import type { Offer, PaymentRequirementsV2, Resource } from '../x402/index.js';
import { parseRoutePattern } from './route-key.js';
import type { PricedRoute, RouteSpec } from './types.js';

/** The routes ending at one trie position: per method, and the any-method one. */
export interface RouteSlot {
  readonly byMethod: Map<string, PricedRoute>;
  any: PricedRoute | undefined;
}

/**
 * One trie level. A route `/a/:id` ends in `root.literals['a'].param.exact`; `/a/*` in
 * `root.literals['a'].wildcard`.
 */
export interface TrieNode {
  literals: Map<string, TrieNode> | null;
  param: TrieNode | null;
  /** Routes whose pattern ends exactly here. */
  exact: RouteSlot | null;
  /** Routes `<this prefix>/*`: match this prefix itself and everything below. */
  wildcard: RouteSlot | null;
}

export function newNode(): TrieNode {
  return { literals: null, param: null, exact: null, wildcard: null };
}

function newSlot(): RouteSlot {
  return { byMethod: new Map(), any: undefined };
}

/** The one offer of a priced route; its v2 requirement has the wire key order and is frozen. */
function buildOffer(route: RouteSpec): Offer {
  const amountText = route.amount.toString();
  const requirementsV2: PaymentRequirementsV2 = Object.freeze({
    scheme: 'exact',
    network: route.network.caip2,
    amount: amountText,
    asset: route.asset.address,
    payTo: route.payTo,
    maxTimeoutSeconds: route.maxTimeoutSeconds,
    extra: Object.freeze({ name: route.asset.name, version: route.asset.version }),
  });
  return Object.freeze({
    network: route.network,
    asset: route.asset,
    payTo: route.payTo,
    amount: route.amount,
    amountText,
    maxTimeoutSeconds: route.maxTimeoutSeconds,
    requirementsV2,
  });
}

/** A frozen PricedRoute for one route spec; free routes (amount 0) carry no offers. */
export function compileRoute(route: RouteSpec, index = 0): PricedRoute {
  const free = route.amount === 0n;
  const resource: Resource = Object.freeze({
    id: route.id,
    description: route.description,
    mimeType: route.mimeType,
    method: route.method,
  });
  return Object.freeze({
    spec: route,
    resource,
    id: route.id,
    index,
    free,
    offers: Object.freeze(free ? [] : [buildOffer(route)]),
  });
}

/**
 * Insert a route into the trie. Throws on an invalid pattern or a tie: config validation rejects
 * both, so reaching either here is a bug in the caller, not a user error.
 */
export function insertRoute(root: TrieNode, priced: PricedRoute): void {
  const parsed = parseRoutePattern(priced.spec.pattern);
  if (!parsed.ok) {
    throw new Error(`route ${priced.id}: invalid pattern in the price table: ${parsed.message}`);
  }
  let node = root;
  let slotOwner: 'exact' | 'wildcard' = 'exact';
  for (const seg of parsed.value.segments) {
    if (seg.kind === 'literal') {
      node.literals ??= new Map();
      let child = node.literals.get(seg.value);
      if (child === undefined) {
        child = newNode();
        node.literals.set(seg.value, child);
      }
      node = child;
    } else if (seg.kind === 'param') {
      node = node.param ??= newNode();
    } else {
      slotOwner = 'wildcard'; // always the last segment
    }
  }
  const slot = (node[slotOwner] ??= newSlot());
  const method = priced.spec.method;
  const existing = method === null ? slot.any : slot.byMethod.get(method);
  if (existing !== undefined) {
    throw new Error(
      `routes ${existing.id} and ${priced.id} tie: config validation should have refused them`,
    );
  }
  if (method === null) slot.any = priced;
  else slot.byMethod.set(method, priced);
}
