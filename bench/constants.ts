/** Fixed identities and prices shared by every contender, so one signed payment pool fits all. */

/** Well-known public test key (anvil/hardhat account #0). Never holds real funds. */
export const PAYER_KEY =
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80' as const;
/** Anvil account #1, the seller. */
export const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' as const;
/** USDC on Base Sepolia; EIP-712 domain name "USDC", version "2". */
export const USDC_BASE_SEPOLIA = '0x036CbD53842c5426634e7929541eC2318f3dCF7e' as const;
export const CHAIN_ID = 84532;
export const NETWORK_V1 = 'base-sepolia';
export const NETWORK_V2 = 'eip155:84532';
export const PRICE = '$0.001';
/**
 * Longest validity of a pre-signed pool (BENCH_VALID_SECONDS' ceiling), and the gateway's
 * maxTimeoutSeconds in the bench: the gateway refuses a validBefore further ahead than
 * maxTimeoutSeconds + 30 s, and a cached pool may have been signed with any validity up to this.
 */
export const POOL_MAX_VALID_SECONDS = 7 * 24 * 3600;
/** PRICE in USDC atomic units (6 decimals). */
export const AMOUNT = '1000';
export const DOMAIN = {
  name: 'USDC',
  version: '2',
  chainId: CHAIN_ID,
  verifyingContract: USDC_BASE_SEPOLIA,
} as const;
