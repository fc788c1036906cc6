/**
 * Local EVM devnet for development and tests (never production): anvil on loopback with our
 * EIP-3009 token at the chain's canonical USDC address and a Multicall3 at the canonical address,
 * the 10 anvil test accounts funded with ETH and tokens.
 */
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  type Address,
  type Chain,
  type Hex,
} from 'viem';
import {
  anvilAccounts,
  BASE,
  BASE_SEPOLIA,
  type DevnetAccount,
  type NetworkInfo,
} from '../chains/index.js';
import { spawnAnvil } from './anvil.js';
import { EIP3009_TOKEN_ARTIFACT, MULTICALL3_ARTIFACT } from './artifacts/contracts.js';

export {
  ANVIL_MNEMONIC,
  ANVIL_PRIVATE_KEYS,
  TestKeyRefusedError,
  anvilAccounts,
  assertTestKeyAllowed,
  isDevnetRpc,
  isLoopbackRpcUrl,
  isWellKnownTestKey,
  type DevnetAccount,
} from '../chains/index.js';
export { EIP3009_TOKEN_ARTIFACT, MULTICALL3_ARTIFACT } from './artifacts/contracts.js';

/** Canonical Multicall3 address (same on every chain; viem and the x402 facilitator call it). */
export const MULTICALL3_ADDRESS: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';
/**
 * Impersonated account that initialises and mints. Using it keeps the 10 test accounts' nonces
 * untouched, so a facilitator or test using any of them never races the devnet's own transactions.
 */
export const DEVNET_FAUCET: Address = '0x00000000000000000000000000000000000FA11c';

export type DevnetChainId = 8453 | 84532;

export interface StartDevnetOptions {
  /** Base (8453) or Base Sepolia (84532): decides the USDC address and EIP-712 name. */
  readonly chainId: DevnetChainId;
  /** Port on 127.0.0.1; 0 or omitted = pick a free one. */
  readonly port?: number;
  /**
   * Seconds between blocks (interval mining). Omitted/0 = automine (a block per transaction).
   * Applied after the setup transactions, so start-up stays fast even with a long block time.
   */
  readonly blockTime?: number;
  /** false = no mining at all after setup (transactions stay pending until `evm_mine`). Default true. */
  readonly mining?: boolean;
  /** Token units (6 decimals) minted to each account. Default 1,000,000 USDC. */
  readonly initialTokenBalance?: bigint;
  /** Readiness deadline of the anvil process. Default 15 s. */
  readonly readyTimeoutMs?: number;
}

export interface Devnet {
  readonly rpcUrl: string;
  readonly chainId: DevnetChainId;
  /** The 10 anvil mnemonic accounts, funded with 10,000 ETH and `initialTokenBalance` tokens. */
  readonly accounts: readonly DevnetAccount[];
  /** The EIP-3009 token, at the chain's canonical USDC address. */
  readonly usdc: Address;
  readonly multicall3: Address;
  /** The network entry (CAIP-2, v1 name, USDC name/version) this devnet impersonates. */
  readonly network: NetworkInfo;
  /** viem chain description of this devnet (rpc URL, multicall3). */
  readonly chain: Chain;
  /** Kill anvil. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_TOKEN_BALANCE = 1_000_000n * 10n ** 6n;

function networkFor(chainId: number): NetworkInfo {
  if (chainId === BASE.chainId) return BASE;
  if (chainId === BASE_SEPOLIA.chainId) return BASE_SEPOLIA;
  throw new Error(`devnet supports chain ids 8453 and 84532, not ${chainId}`);
}

/** viem chain for a devnet RPC. */
export function devnetChain(chainId: number, rpcUrl: string): Chain {
  const network = networkFor(chainId);
  return defineChain({
    id: chainId,
    name: `x402 devnet (${network.v1Name})`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
  });
}

function clients(chain: Chain, rpcUrl: string) {
  const transport = http(rpcUrl, { timeout: 10_000, retryCount: 0 });
  return {
    test: createTestClient({ mode: 'anvil', chain, transport }),
    public: createPublicClient({ chain, transport, pollingInterval: 50 }),
    faucet: createWalletClient({ chain, transport, account: DEVNET_FAUCET }),
  };
}

/** Start anvil, place the contracts, fund the accounts. Rejects (and kills anvil) on any failure. */
export async function startDevnet(options: StartDevnetOptions): Promise<Devnet> {
  const network = networkFor(options.chainId);
  const usdc = network.usdc;
  if (!usdc) throw new Error(`network ${network.caip2} has no USDC entry`);
  const anvil = await spawnAnvil({
    chainId: options.chainId,
    port: options.port ?? 0,
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
  });
  try {
    const chain = devnetChain(options.chainId, anvil.rpcUrl);
    const c = clients(chain, anvil.rpcUrl);
    await c.test.setCode({
      address: usdc.address,
      bytecode: EIP3009_TOKEN_ARTIFACT.deployedBytecode,
    });
    await c.test.setCode({
      address: MULTICALL3_ADDRESS,
      bytecode: MULTICALL3_ARTIFACT.deployedBytecode,
    });
    await c.test.setBalance({ address: DEVNET_FAUCET, value: 10n ** 24n });
    await c.test.impersonateAccount({ address: DEVNET_FAUCET });

    const accounts = anvilAccounts();
    const amount = options.initialTokenBalance ?? DEFAULT_TOKEN_BALANCE;
    const hashes: Hex[] = [];
    hashes.push(
      await c.faucet.writeContract({
        address: usdc.address,
        abi: EIP3009_TOKEN_ARTIFACT.abi,
        functionName: 'initialize',
        args: [usdc.name, usdc.version],
      }),
    );
    if (amount > 0n) {
      for (const a of accounts) {
        hashes.push(
          await c.faucet.writeContract({
            address: usdc.address,
            abi: EIP3009_TOKEN_ARTIFACT.abi,
            functionName: 'mint',
            args: [a.address, amount],
          }),
        );
      }
    }
    for (const hash of hashes) {
      const receipt = await c.public.waitForTransactionReceipt({ hash, timeout: 10_000 });
      if (receipt.status !== 'success')
        throw new Error(`devnet setup transaction ${hash} reverted`);
    }
    if (options.mining === false) {
      await c.test.setAutomine(false);
    } else if (options.blockTime !== undefined && options.blockTime > 0) {
      await c.test.setIntervalMining({ interval: options.blockTime });
    }
    return Object.freeze({
      rpcUrl: anvil.rpcUrl,
      chainId: options.chainId,
      accounts,
      usdc: usdc.address,
      multicall3: MULTICALL3_ADDRESS,
      network,
      chain,
      stop: () => anvil.stop(),
    });
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

export interface FundOptions {
  /** Also set the account's ETH balance to this many wei. */
  readonly eth?: bigint;
}

/**
 * Mint `amount` token units (6 decimals) to `address` and wait for the receipt. On a devnet whose
 * mining is off, a block is mined so the mint lands (this also mines whatever else is pending).
 */
export async function fundAccount(
  devnet: Devnet,
  address: Address,
  amount: bigint,
  options: FundOptions = {},
): Promise<void> {
  const c = clients(devnet.chain, devnet.rpcUrl);
  if (options.eth !== undefined) await c.test.setBalance({ address, value: options.eth });
  if (amount <= 0n) return;
  const hash = await c.faucet.writeContract({
    address: devnet.usdc,
    abi: EIP3009_TOKEN_ARTIFACT.abi,
    functionName: 'mint',
    args: [address, amount],
  });
  if (!(await c.test.getAutomine())) await c.test.mine({ blocks: 1 });
  const receipt = await c.public.waitForTransactionReceipt({ hash, timeout: 10_000 });
  if (receipt.status !== 'success') throw new Error(`mint ${hash} reverted`);
}

/** Token balance of `address` on the devnet. */
export async function tokenBalance(devnet: Devnet, address: Address): Promise<bigint> {
  const c = clients(devnet.chain, devnet.rpcUrl);
  return c.public.readContract({
    address: devnet.usdc,
    abi: EIP3009_TOKEN_ARTIFACT.abi,
    functionName: 'balanceOf',
    args: [address],
  });
}
