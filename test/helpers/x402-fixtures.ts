/**
 * Hand-built Offer / PricedRoute for the x402 unit tests (the pricing compiler is not used here,
 * so these tests pin the wire layer alone).
 */
import { getAddress, type Address } from 'viem';
import { z } from 'zod';
import type { RouteConfig } from '../../src/config/types.js';
import type { PricedRoute } from '../../src/pricing/types.js';
import type { Offer } from '../../src/x402/types.js';
import { BASE, BASE_SEPOLIA, type NetworkInfo } from '../../src/chains/networks.js';
import type { PaymentRequirementsV2 } from '../../src/x402/types.js';

/** Checksummed (mixed-case) so case handling is actually exercised. */
export const PAY_TO: Address = getAddress('0x209693bc6afc0c5328ba36faf03c514ef312287c');
export const OTHER_ADDRESS: Address = getAddress('0x8ba1f109551bd432803012645ac136ddd64dba72');

export interface OfferOptions {
  readonly network?: NetworkInfo;
  readonly amount?: bigint;
  readonly payTo?: Address;
  readonly maxTimeoutSeconds?: number;
}

export function makeOffer(opts: OfferOptions = {}): Offer {
  const network = opts.network ?? BASE_SEPOLIA;
  const asset = network.usdc;
  if (asset === null) throw new Error(`test offer needs a network with USDC: ${network.v1Name}`);
  const amount = opts.amount ?? 1000n;
  const payTo = opts.payTo ?? PAY_TO;
  const maxTimeoutSeconds = opts.maxTimeoutSeconds ?? 120;
  const requirementsV2: PaymentRequirementsV2 = Object.freeze({
    scheme: 'exact',
    network: network.caip2,
    amount: amount.toString(),
    asset: asset.address,
    payTo,
    maxTimeoutSeconds,
    extra: Object.freeze({ name: asset.name, version: asset.version }),
  });
  return Object.freeze({
    network,
    asset,
    payTo,
    amount,
    amountText: amount.toString(),
    maxTimeoutSeconds,
    requirementsV2,
  });
}

export interface RouteOptions {
  readonly offers?: readonly Offer[];
  readonly method?: string | null;
  readonly description?: string;
  readonly mimeType?: string;
}

export function makeRoute(opts: RouteOptions = {}): PricedRoute {
  const offers = opts.offers ?? [makeOffer()];
  const first = offers[0] ?? makeOffer();
  const config: RouteConfig = {
    id: 'GET /v1/quote',
    method: opts.method === undefined ? 'GET' : opts.method,
    pattern: '/v1/quote',
    amount: first.amount,
    network: first.network,
    asset: first.asset,
    payTo: first.payTo,
    maxTimeoutSeconds: first.maxTimeoutSeconds,
    description: opts.description ?? 'Quote API',
    mimeType: opts.mimeType ?? 'application/json',
    settle: { mode: 'headers' },
  };
  const resource = {
    id: config.id,
    description: config.description,
    mimeType: config.mimeType,
    method: config.method,
  };
  return { spec: config, resource, id: config.id, index: 0, free: offers.length === 0, offers };
}

export { BASE, BASE_SEPOLIA };

const jsonRecord = z.record(z.string(), z.unknown());
const acceptsDoc = z.object({ accepts: z.array(jsonRecord) });

/** JSON.parse that must yield an object (validated, so tests never handle `any`). */
export function jsonObject(text: string): Record<string, unknown> {
  return jsonRecord.parse(JSON.parse(text));
}

/** The `accepts` entries of a v1 body or a v2 PaymentRequired JSON text. */
export function acceptsOf(text: string): Record<string, unknown>[] {
  return acceptsDoc.parse(JSON.parse(text)).accepts;
}

/** UTF-8 text of a base64 header value. */
export function base64Text(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}
