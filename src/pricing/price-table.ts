/**
 * The price table: the compiled routes and `match(method, matchKey)`, built once at start-up.
 */
import { compileRoute, insertRoute, newNode, type RouteSlot } from './compile.js';
import { findInTrie, pickFromSlot, splitMatchKey } from './match.js';
import type { PriceTable, PricedRoute, RouteSpec } from './types.js';

/**
 * Build the price table from validated route specs. `match(method, matchKey)` takes the `matchKey` of
 * `canonicalizeTarget` and an upper-case method (HEAD matches as GET); it returns the most specific
 * route or undefined when no route covers the path (an unpriced path).
 *
 * Fully literal routes are also kept in a Map by path: a hit there is the most specific answer
 * possible, so most lookups are one Map get. Throws only when given routes that validation should
 * have refused.
 */
export function createPriceTable(routes: readonly RouteSpec[]): PriceTable {
  const root = newNode();
  const literalPaths = new Map<string, RouteSlot>();
  const priced: PricedRoute[] = [];
  for (const route of routes) {
    const compiled = compileRoute(route, priced.length);
    insertRoute(root, compiled);
    priced.push(compiled);
  }
  collectLiteralSlots(root, '', literalPaths);
  const all = Object.freeze(priced);

  return Object.freeze({
    routes: all,
    match(method: string, matchKey: string): PricedRoute | undefined {
      const m = method === 'HEAD' ? 'GET' : method;
      const slot = literalPaths.get(matchKey);
      if (slot !== undefined) {
        const hit = pickFromSlot(slot, m);
        if (hit !== undefined) return hit;
      }
      return findInTrie(root, splitMatchKey(matchKey), 0, m);
    },
  } satisfies PriceTable);
}

/** Index every route made only of literals by its lower-case path (`/` for the root). */
function collectLiteralSlots(
  node: ReturnType<typeof newNode>,
  prefix: string,
  out: Map<string, RouteSlot>,
): void {
  if (node.exact !== null) out.set(prefix === '' ? '/' : prefix, node.exact);
  if (node.literals === null) return;
  for (const [seg, child] of node.literals) collectLiteralSlots(child, `${prefix}/${seg}`, out);
}
