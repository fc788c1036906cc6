/**
 * Price table contract: what does this (method, path) cost, and what do we offer for it.
 */
import type { RouteConfig } from '../config/types.js';
import type { AssetInfo, NetworkInfo } from '../x402/networks.js';
import type { PaymentRequirementsV2 } from '../x402/types.js';
import type { Address } from 'viem';

/**
 * One way to pay for a route, precomputed at start-up. The v1 and v2 wire forms of the
 * challenge are both derived from this single record so they can never disagree.
 */
export interface Offer {
  readonly network: NetworkInfo;
  readonly asset: AssetInfo;
  readonly payTo: Address;
  readonly amount: bigint;
  /** `amount` as a decimal string, as on the wire. */
  readonly amountText: string;
  readonly maxTimeoutSeconds: number;
  /** Frozen v2 requirement, exactly as emitted in PAYMENT-REQUIRED and expected back in `accepted`. */
  readonly requirementsV2: PaymentRequirementsV2;
}

/** A compiled route. */
export interface PricedRoute {
  readonly config: RouteConfig;
  /** Route id for labels and logs (never a raw path). */
  readonly id: string;
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
