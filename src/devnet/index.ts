/**
 * Devnet: a local anvil chain with the EIP-3009 USDC, for the demo and the tests. Never production.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { type Devnet, type DevnetChainId, startDevnet } from './devnet.js';
