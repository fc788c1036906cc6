/**
 * Chains: the networks and tokens the gateway knows, and the guard that keeps the public anvil
 * test keys away from real chains. The lowest layer: imports nothing of ours.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export {
  type AssetInfo,
  BASE,
  BASE_SEPOLIA,
  findNetwork,
  type NetworkInfo,
  NETWORKS,
} from './networks.js';
export {
  ANVIL_MNEMONIC,
  ANVIL_PRIVATE_KEYS,
  anvilAccounts,
  assertTestKeyAllowed,
  type DevnetAccount,
  isDevnetRpc,
  isLoopbackRpcUrl,
  isWellKnownTestKey,
  TestKeyRefusedError,
} from './test-keys.js';
export { readNetwork } from './chain-id.js';
export {
  createChainReader,
  type ChainReader,
  type SettledVerdict,
  type TransferQuery,
  type TransferVerdict,
} from './transfer-check.js';
