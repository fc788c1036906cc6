/**
 * Networks the gateway knows: CAIP-2 id, v1 name, chain id, and the built-in USDC entry where there is one.
 * Sources: docs/protocol.md §1 (USDC addresses and EIP-712 domains differ per chain).
 */
import type { Address } from 'viem';

export interface AssetInfo {
  readonly address: Address;
  readonly decimals: number;
  /** EIP-712 domain name (e.g. "USD Coin" on Base, "USDC" on Base Sepolia). */
  readonly name: string;
  /** EIP-712 domain version. */
  readonly version: string;
}

export interface NetworkInfo {
  /** CAIP-2 (`eip155:<chainId>`), the v2 wire form. */
  readonly caip2: string;
  /** v1 wire name (`base`, `base-sepolia`). */
  readonly v1Name: string;
  readonly chainId: number;
  /** Built-in USDC, or null when the config must name an asset. */
  readonly usdc: AssetInfo | null;
}

export const BASE: NetworkInfo = Object.freeze({
  caip2: 'eip155:8453',
  v1Name: 'base',
  chainId: 8453,
  usdc: Object.freeze({
    address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
    decimals: 6,
    name: 'USD Coin',
    version: '2',
  }),
});

export const BASE_SEPOLIA: NetworkInfo = Object.freeze({
  caip2: 'eip155:84532',
  v1Name: 'base-sepolia',
  chainId: 84532,
  usdc: Object.freeze({
    address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
    decimals: 6,
    name: 'USDC',
    version: '2',
  }),
});

/** EVM networks of the legacy v1 enum without a built-in USDC entry: usable with an explicit asset. */
const OTHER_V1_EVM: ReadonlyArray<readonly [string, number]> = [
  ['avalanche', 43114],
  ['avalanche-fuji', 43113],
  ['polygon', 137],
  ['polygon-amoy', 80002],
  ['sei', 1329],
  ['sei-testnet', 1328],
  ['iotex', 4689],
  ['abstract', 2741],
  ['abstract-testnet', 11124],
  ['peaq', 3338],
  ['story', 1514],
  ['educhain', 41923],
  ['skale-base-sepolia', 324705682],
];

export const NETWORKS: readonly NetworkInfo[] = Object.freeze([
  BASE,
  BASE_SEPOLIA,
  ...OTHER_V1_EVM.map(([v1Name, chainId]) =>
    Object.freeze({ caip2: `eip155:${chainId}`, v1Name, chainId, usdc: null }),
  ),
]);

const byName = new Map<string, NetworkInfo>();
for (const n of NETWORKS) {
  byName.set(n.caip2, n);
  byName.set(n.v1Name, n);
}

/** Look a network up by v1 name or CAIP-2 id; undefined when unknown. */
export function findNetwork(name: string): NetworkInfo | undefined {
  return byName.get(name);
}
