/**
 * Price table contract: what does this (method, path) cost, and what do we offer for it.
 */
import type { Address } from 'viem';
import type { AssetInfo, NetworkInfo } from '../chains/index.js';
import type { Offer, Resource } from '../x402/index.js';

/** How a priced route's money is collected relative to the upstream response. */
export type SettleMode =
  { readonly mode: 'headers' } | { readonly mode: 'buffer'; readonly maxBufferBytes: number };

/**
 * One route as pricing takes it (config validation produces these from YAML). `amount === 0n`
 * means free (no payment asked).
 */
export interface RouteSpec {
  /** The route key as written in YAML, e.g. "GET /v1/items/:id"; used as the metrics label. */
  readonly id: string;
  /** Upper-case method, or null for any method. */
  readonly method: string | null;
  /** The path pattern as written (leading slash, `:param`, trailing `/*`). */
  readonly pattern: string;
  readonly amount: bigint;
  readonly network: NetworkInfo;
  readonly asset: AssetInfo;
  /** EIP-55 checksummed. A free route with no payee configured carries the zero address. */
  readonly payTo: Address;
  readonly maxTimeoutSeconds: number;
  readonly description: string;
  readonly mimeType: string;
  readonly settle: SettleMode;
  /** The named upstream that serves this route; absent: the default upstream. */
  readonly upstream?: string;
  /** The path the upstream sees: `prefix` replaced by `replace` ('' strips it). */
  readonly rewrite?: PathRewrite;
  /** YAML line of the route key, for messages. */
  readonly line?: number;
}

/** A route's path rewrite on its way upstream (`rewrite: { prefix, replace }`). */
export interface PathRewrite {
  /** Whole leading segments, no trailing slash: `/api`. */
  readonly prefix: string;
  /** What the upstream sees instead: `/v2`, or '' to strip the prefix. */
  readonly replace: string;
}

/** A compiled route. */
export interface PricedRoute {
  readonly spec: RouteSpec;
  /** The wire's view of the route (challenge `resource`, v1 `outputSchema`). */
  readonly resource: Resource;
  /** Route id for labels and logs (never a raw path). */
  readonly id: string;
  /** Position in the price table's `routes`: per-route state is kept in arrays by it. */
  readonly index: number;
  /** True when the price is 0: no payment asked. */
  readonly free: boolean;
  /** Empty when free. */
  readonly offers: readonly Offer[];
}

/** Result of canonicalising a request target's path. */
export type CanonicalPath =
  | {
      readonly ok: true;
      /** Canonical path with original case kept: what the upstream receives. */
      readonly path: string;
      /** Lower-cased canonical path without trailing slash: what routes match on. */
      readonly matchKey: string;
      /** The raw query including its leading `?`, or `''` when there is none; never altered. */
      readonly search: string;
    }
  | { readonly ok: false; readonly reason: 'invalid_path' };

export interface PriceTable {
  /** Route for a method and a canonical match key, or undefined when nothing prices it. HEAD matches as GET. */
  match(method: string, matchKey: string): PricedRoute | undefined;
  readonly routes: readonly PricedRoute[];
}
