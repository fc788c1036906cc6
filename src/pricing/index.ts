/**
 * Pricing: what does this (method, path) cost, and what do we offer for it. No I/O.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { canonicalizeTarget } from './canonical.js';
export { parseAtomicAmount, parsePrice, type PriceParse } from './money.js';
export { createPriceTable } from './price-table.js';
export { parseRouteKey } from './route-key.js';
export type { PathRewrite, PricedRoute, PriceTable, RouteSpec, SettleMode } from './types.js';
