/**
 * Lookup in the route trie built by compile.ts. Specificity is decided segment by segment from the
 * left: a literal beats a `:param`, which beats `/*`; a route naming the method beats an any-method
 * route of the same shape. A depth-first walk in that order finds the most specific route first; a
 * route of another method is skipped and the walk backtracks to the next less specific candidate.
 * Each trie node is visited at most once per lookup, so the cost is bounded by the routes' depth
 * and branching, not the route count.
 */
import type { RouteSlot, TrieNode } from './compile.js';
import type { PricedRoute } from './types.js';

function pick(slot: RouteSlot, method: string): PricedRoute | undefined {
  return slot.byMethod.get(method) ?? slot.any;
}

/** Most specific route for `segments[i..]` below `node`, or undefined. */
export function findInTrie(
  node: TrieNode,
  segments: readonly string[],
  i: number,
  method: string,
): PricedRoute | undefined {
  if (i === segments.length) {
    if (node.exact !== null) {
      const hit = pick(node.exact, method);
      if (hit !== undefined) return hit;
    }
  } else {
    const seg = segments[i] as string;
    const child = node.literals?.get(seg);
    if (child !== undefined) {
      const hit = findInTrie(child, segments, i + 1, method);
      if (hit !== undefined) return hit;
    }
    if (node.param !== null) {
      const hit = findInTrie(node.param, segments, i + 1, method);
      if (hit !== undefined) return hit;
    }
  }
  return node.wildcard === null ? undefined : pick(node.wildcard, method);
}

/** `/a/b` → `['a', 'b']`; the root `/` → `[]`. */
export function splitMatchKey(matchKey: string): string[] {
  return matchKey.length <= 1 ? [] : matchKey.slice(1).split('/');
}

export { pick as pickFromSlot };
