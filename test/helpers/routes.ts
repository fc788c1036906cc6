/** RouteConfigs built from a route key, for the pricing tests (no YAML, no config loader). */
import type { RouteConfig } from '../../src/config/types.js';
import { parseRouteKey } from '../../src/pricing/route-key.js';
import { BASE_SEPOLIA } from '../../src/chains/networks.js';

export const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';

/** A RouteConfig for a route key, priced at `amount` atomic units of Base Sepolia USDC. */
export function route(key: string, amount = 1000n, extra: Partial<RouteConfig> = {}): RouteConfig {
  const parsed = parseRouteKey(key);
  if (!parsed.ok) throw new Error(`bad test route ${key}: ${parsed.message}`);
  const usdc = BASE_SEPOLIA.usdc;
  if (usdc === null) throw new Error('Base Sepolia has USDC');
  return {
    id: key,
    method: parsed.value.method,
    pattern: parsed.value.pattern,
    amount,
    network: BASE_SEPOLIA,
    asset: usdc,
    payTo: PAY_TO,
    maxTimeoutSeconds: 120,
    description: '',
    mimeType: '',
    settle: { mode: 'headers' },
    ...extra,
  };
}
