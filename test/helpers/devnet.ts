/**
 * The one devnet fixture of the e2e tests: anvil on loopback (src/devnet, port 0) with the EIP-3009
 * USDC and the 10 funded anvil accounts, optionally the built-in facilitator on it (in-process, and
 * over HTTP), plus what tests do with a devnet: fresh payers and payees, requirement and request
 * builders, real EIP-3009 signatures (payments.ts → eip3009.ts), and on-chain readers. No mocks.
 *
 * A test file calls `useDevnet(options)` once at the top and reads `net.devnet`, `net.facilitator`
 * inside its tests: one devnet per file, started before its tests and stopped after them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  getAddress,
  http,
  parseAbi,
  parseAbiItem,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  EIP3009_TOKEN_ARTIFACT,
  fundAccount,
  type DevnetAccount,
  type StartDevnetOptions,
} from '../../src/devnet/devnet.js';
import { startDevnet, type Devnet, type DevnetChainId } from '../../src/devnet/index.js';
import {
  createLocalFacilitator,
  startFacilitatorServer,
  type FacilitatorServer,
  type LocalFacilitator,
} from '../../src/facilitator/index.js';
import type { FacilitatorRequest } from '../../src/verify/types.js';
import type { PaymentRequirementsV1, PaymentRequirementsV2 } from '../../src/x402/types.js';
import { eip3009Domain, signCancelAuthorization, type SignedAuthorization } from './eip3009.js';
import { signAuthorization } from './payments.js';

export type { Devnet, DevnetAccount, SignedAuthorization };

/** Index of the account that settles (pays gas) by default; payers use others. */
export const SETTLER_INDEX = 9;

/** A devnet on a free port; Base Sepolia (84532) unless told. */
export async function startTestDevnet(opts: Partial<StartDevnetOptions> = {}): Promise<Devnet> {
  return startDevnet({ chainId: 84532, port: 0, ...opts });
}

export interface BuiltInFacilitatorOptions {
  /** Account that settles (pays gas). Default SETTLER_INDEX. Two signers on one chain need two. */
  readonly settlerIndex?: number;
  /** Receipt wait after broadcast; past it settle answers `settlement_pending`. Default 10 000. */
  readonly receiptTimeoutMs?: number;
  /** Deadline of one JSON-RPC call. Default the facilitator's. */
  readonly rpcTimeoutMs?: number;
  /** Also serve it over HTTP on 127.0.0.1, port 0. */
  readonly http?: boolean;
}

export interface BuiltInFacilitator {
  readonly facilitator: LocalFacilitator;
  /** Only with `http: true`. */
  readonly server: FacilitatorServer | undefined;
  /** Stop the server (if any), then the facilitator. */
  close(): Promise<void>;
}

/** The built-in facilitator on `devnet`, polling receipts every 50 ms. */
export async function startBuiltInFacilitator(
  devnet: Devnet,
  o: BuiltInFacilitatorOptions = {},
): Promise<BuiltInFacilitator> {
  const facilitator = await createLocalFacilitator({
    rpcUrl: devnet.rpcUrl,
    privateKey: account(devnet, o.settlerIndex ?? SETTLER_INDEX).privateKey,
    receiptTimeoutMs: o.receiptTimeoutMs ?? 10_000,
    ...(o.rpcTimeoutMs === undefined ? {} : { rpcTimeoutMs: o.rpcTimeoutMs }),
    pollingIntervalMs: 50,
  });
  let server: FacilitatorServer | undefined;
  try {
    if (o.http) server = await startFacilitatorServer({ facilitator, host: '127.0.0.1', port: 0 });
  } catch (error) {
    await facilitator.close();
    throw error;
  }
  return {
    facilitator,
    server,
    async close() {
      await server?.close();
      await facilitator.close();
    },
  };
}

export interface DevnetOptions {
  /** 84532 (Base Sepolia, the default) or 8453 (Base). */
  readonly chainId?: DevnetChainId;
  /** false: nothing is mined after set-up until a test mines (a broadcast stays pending). */
  readonly mining?: boolean;
  /** Also run the built-in facilitator on the devnet. */
  readonly facilitator?: BuiltInFacilitatorOptions;
}

export interface DevnetFixture {
  readonly devnet: Devnet;
  /** The built-in facilitator; only with `facilitator` in the options. */
  readonly facilitator: LocalFacilitator;
  /** Its HTTP server; only with `facilitator: { http: true }`. */
  readonly facilitatorServer: FacilitatorServer;
}

export interface StartedDevnet extends DevnetFixture {
  /** Stop the facilitator (if any), then the devnet. */
  stop(): Promise<void>;
}

/** Start a devnet (and the built-in facilitator on it, if asked); see `useDevnet` for a test file. */
export async function startDevnetFixture(o: DevnetOptions = {}): Promise<StartedDevnet> {
  const devnet = await startTestDevnet({
    ...(o.chainId === undefined ? {} : { chainId: o.chainId }),
    ...(o.mining === undefined ? {} : { mining: o.mining }),
  });
  let builtIn: BuiltInFacilitator | undefined;
  try {
    if (o.facilitator) builtIn = await startBuiltInFacilitator(devnet, o.facilitator);
  } catch (error) {
    await devnet.stop();
    throw error;
  }
  return {
    devnet,
    get facilitator() {
      if (builtIn === undefined) throw new Error('devnet started without `facilitator`');
      return builtIn.facilitator;
    },
    get facilitatorServer() {
      if (builtIn?.server === undefined)
        throw new Error('devnet started without `facilitator: { http: true }`');
      return builtIn.server;
    },
    async stop() {
      await builtIn?.close();
      await devnet.stop();
    },
  };
}

/**
 * The calling test file's devnet: started in `beforeAll`, stopped in `afterAll`. Read its fields
 * inside tests and later hooks (before `beforeAll` has run there is nothing to read).
 */
export function useDevnet(o: DevnetOptions = {}): DevnetFixture {
  let started: StartedDevnet | undefined;
  beforeAll(async () => {
    started = await startDevnetFixture(o);
  });
  afterAll(async () => {
    await started?.stop();
  });
  const live = (): StartedDevnet => {
    if (started === undefined)
      throw new Error('the devnet starts in beforeAll: read it inside a test or hook');
    return started;
  };
  return {
    get devnet() {
      return live().devnet;
    },
    get facilitator() {
      return live().facilitator;
    },
    get facilitatorServer() {
      return live().facilitatorServer;
    },
  };
}

export function account(devnet: Devnet, i: number): DevnetAccount {
  const a = devnet.accounts[i];
  if (!a) throw new Error(`no account ${i}`);
  return a;
}

export function publicClient(devnet: Devnet): PublicClient {
  return createPublicClient({
    chain: devnet.chain,
    transport: http(devnet.rpcUrl),
    pollingInterval: 50,
  });
}

export async function balanceOf(devnet: Devnet, who: Address): Promise<bigint> {
  return publicClient(devnet).readContract({
    address: devnet.usdc,
    abi: EIP3009_TOKEN_ARTIFACT.abi,
    functionName: 'balanceOf',
    args: [who],
  });
}

/** Whether the token has consumed `nonce` of `who` (used or cancelled). */
export async function authorizationState(
  devnet: Devnet,
  who: Address,
  nonce: Hex,
): Promise<boolean> {
  return publicClient(devnet).readContract({
    address: devnet.usdc,
    abi: EIP3009_TOKEN_ARTIFACT.abi,
    functionName: 'authorizationState',
    args: [who, nonce],
  });
}

/** A fresh address with nothing on it (payee). */
export function freshAddress(): Address {
  return privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`).address;
}

export interface Payer {
  readonly account: LocalAccount;
  readonly privateKey: Hex;
  readonly address: Address;
}

/** A fresh payer holding exactly `amount` token units (and no ETH: EIP-3009 is gasless). */
export async function newPayer(devnet: Devnet, amount: bigint): Promise<Payer> {
  const privateKey: Hex = `0x${randomBytes(32).toString('hex')}`;
  const acct = privateKeyToAccount(privateKey);
  if (amount > 0n) await fundAccount(devnet, acct.address, amount);
  return { account: acct, privateKey, address: acct.address };
}

const TRANSFER = parseAbiItem(
  'event Transfer(address indexed from, address indexed to, uint256 value)',
);

export interface TransferLog {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly transactionHash: Hex;
}

/** Every token Transfer event to `to`, from the chain's logs. */
export async function transfersTo(devnet: Devnet, to: Address): Promise<TransferLog[]> {
  const logs = await publicClient(devnet).getLogs({
    address: devnet.usdc,
    event: TRANSFER,
    args: { to },
    fromBlock: 0n,
    toBlock: 'latest',
  });
  return logs.map((l) => ({
    from: l.args.from!,
    to: l.args.to!,
    value: l.args.value!,
    transactionHash: l.transactionHash,
  }));
}

export function requirementsV2(
  devnet: Devnet,
  payTo: Address,
  amount: bigint,
): PaymentRequirementsV2 {
  const usdc = devnet.network.usdc!;
  return {
    scheme: 'exact',
    network: devnet.network.caip2,
    amount: amount.toString(),
    asset: getAddress(usdc.address),
    payTo: getAddress(payTo),
    maxTimeoutSeconds: 120,
    extra: { name: usdc.name, version: usdc.version },
  };
}

export function requirementsV1(
  devnet: Devnet,
  payTo: Address,
  amount: bigint,
): PaymentRequirementsV1 {
  const usdc = devnet.network.usdc!;
  return {
    scheme: 'exact',
    network: devnet.network.v1Name,
    maxAmountRequired: amount.toString(),
    resource: 'http://127.0.0.1/paid',
    description: 'e2e',
    mimeType: 'application/json',
    payTo: getAddress(payTo),
    maxTimeoutSeconds: 120,
    asset: getAddress(usdc.address),
    extra: { name: usdc.name, version: usdc.version },
  };
}

export interface SignOptions {
  readonly to: Address;
  readonly value: bigint;
  /** Seconds relative to now. Default -600 (what the SDK clients sign). */
  readonly validAfterOffset?: number;
  /** Seconds relative to now. Default +120. */
  readonly validBeforeOffset?: number;
  readonly nonce?: Hex;
  /** EIP-712 domain name override (to sign with a wrong domain). */
  readonly domainName?: string;
}

/** Sign a real EIP-3009 TransferWithAuthorization for the devnet's USDC with `payer`'s key. */
export async function signDevnetAuthorization(
  devnet: Devnet,
  payer: DevnetAccount,
  o: SignOptions,
): Promise<SignedAuthorization> {
  const usdc = devnet.network.usdc!;
  const now = Math.floor(Date.now() / 1000);
  return signAuthorization({
    account: privateKeyToAccount(payer.privateKey),
    network: devnet.network.caip2,
    chainId: devnet.chainId,
    asset: usdc.address,
    payTo: o.to,
    amount: o.value,
    extra: { name: usdc.name, version: usdc.version },
    validAfter: now + (o.validAfterOffset ?? -600),
    validBefore: now + (o.validBeforeOffset ?? 120),
    ...(o.nonce === undefined ? {} : { nonce: o.nonce }),
    ...(o.domainName === undefined ? {} : { domainName: o.domainName }),
  });
}

/** A v2 /verify|/settle request for a signed authorization against `requirements`. */
export function requestV2(
  requirements: PaymentRequirementsV2,
  signed: SignedAuthorization,
): FacilitatorRequest {
  return {
    x402Version: 2,
    paymentPayload: {
      x402Version: 2,
      resource: { url: 'http://127.0.0.1/paid' },
      accepted: { ...requirements, extra: { ...requirements.extra } },
      payload: signed,
    },
    paymentRequirements: requirements,
  };
}

/** A v1 request (payload carries scheme + network, no copy of the requirements). */
export function requestV1(
  requirements: PaymentRequirementsV1,
  signed: SignedAuthorization,
): FacilitatorRequest {
  return {
    x402Version: 1,
    paymentPayload: {
      x402Version: 1,
      scheme: 'exact',
      network: requirements.network,
      payload: signed,
    },
    paymentRequirements: requirements,
  };
}

/** Sign and build a v2 request paying `value` from `payer` to `payTo`. */
export async function paymentV2(
  devnet: Devnet,
  payer: DevnetAccount,
  payTo: Address,
  value: bigint,
  o: Partial<SignOptions> = {},
): Promise<{ request: FacilitatorRequest; signed: SignedAuthorization }> {
  const signed = await signDevnetAuthorization(devnet, payer, { to: payTo, value, ...o });
  return { request: requestV2(requirementsV2(devnet, payTo, value), signed), signed };
}

const CANCEL_ABI = parseAbi([
  'function cancelAuthorization(address authorizer, bytes32 nonce, bytes signature)',
]);

/**
 * Land `payer`'s cancelAuthorization of `nonce` (sent and paid for by anvil account `senderIndex`)
 * with a high priority fee, so that in the next block it goes before a settlement of that nonce.
 * Returns the transaction hash; the caller mines.
 */
export async function cancelAuthorization(
  devnet: Devnet,
  payer: LocalAccount,
  nonce: Hex,
  senderIndex = 3,
): Promise<Hex> {
  const usdc = devnet.network.usdc!;
  const signature = await signCancelAuthorization(
    payer,
    eip3009Domain(usdc.name, usdc.version, devnet.chainId, usdc.address),
    nonce,
  );
  const wallet = createWalletClient({
    chain: devnet.chain,
    transport: http(devnet.rpcUrl),
    account: privateKeyToAccount(account(devnet, senderIndex).privateKey),
  });
  return wallet.writeContract({
    address: usdc.address,
    abi: CANCEL_ABI,
    functionName: 'cancelAuthorization',
    args: [payer.address, nonce, signature],
    maxPriorityFeePerGas: 50_000_000_000n,
    maxFeePerGas: 100_000_000_000n,
    // Fixed gas: an estimate would run against the pending block, where a settlement of the same
    // nonce may already sit, and refuse to send.
    gas: 200_000n,
  });
}

/** Mine `blocks` blocks now (for a devnet started with `mining: false`). */
export async function mineBlocks(devnet: Devnet, blocks = 1): Promise<void> {
  await createTestClient({
    mode: 'anvil',
    chain: devnet.chain,
    transport: http(devnet.rpcUrl),
  }).mine({
    blocks,
  });
}
