/**
 * Shared setup of the devnet e2e tests: a devnet per test file, real EIP-3009 signatures made with
 * viem, v1/v2 requirement and request builders, and on-chain readers. No mocks.
 */
import { randomBytes } from 'node:crypto';
import { createPublicClient, getAddress, http, type Address, type Hex, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { EIP3009_TOKEN_ARTIFACT, startDevnet, type Devnet, type DevnetAccount, type StartDevnetOptions } from '../../../src/devnet/devnet.js';
import { createLocalFacilitator, type LocalFacilitator } from '../../../src/facilitator/index.js';
import type { FacilitatorRequest } from '../../../src/verify/types.js';
import { eip3009Domain, TRANSFER_WITH_AUTHORIZATION_TYPES } from '../../helpers/eip3009.js';
import type { PaymentRequirementsV1, PaymentRequirementsV2 } from '../../../src/x402/types.js';

export type { Devnet, DevnetAccount };

/** Index of the account that settles (pays gas) in these tests; payers use others. */
export const SETTLER_INDEX = 9;

// One definition of the typed data for every test that signs or checks an authorization.
export { TRANSFER_WITH_AUTHORIZATION_TYPES } from '../../helpers/eip3009.js';

export async function startTestDevnet(opts: Partial<StartDevnetOptions> = {}): Promise<Devnet> {
  return startDevnet({ chainId: 84532, port: 0, ...opts });
}

export interface DevnetWithFacilitator {
  readonly devnet: Devnet;
  /** The built-in facilitator, settling from account SETTLER_INDEX. */
  readonly facilitator: LocalFacilitator;
  stop(): Promise<void>;
}

/** A devnet and the built-in facilitator on it: what each facilitator e2e file starts first. */
export async function startDevnetWithFacilitator(
  opts: Partial<StartDevnetOptions> = {},
  receiptTimeoutMs = 10_000,
): Promise<DevnetWithFacilitator> {
  const devnet = await startTestDevnet(opts);
  try {
    const facilitator = await createLocalFacilitator({
      rpcUrl: devnet.rpcUrl,
      privateKey: account(devnet, SETTLER_INDEX).privateKey,
      receiptTimeoutMs,
      pollingIntervalMs: 50,
    });
    return {
      devnet,
      facilitator,
      async stop() {
        await facilitator.close();
        await devnet.stop();
      },
    };
  } catch (error) {
    await devnet.stop();
    throw error;
  }
}

export function account(devnet: Devnet, i: number): DevnetAccount {
  const a = devnet.accounts[i];
  if (!a) throw new Error(`no account ${i}`);
  return a;
}

export function publicClient(devnet: Devnet): PublicClient {
  return createPublicClient({ chain: devnet.chain, transport: http(devnet.rpcUrl), pollingInterval: 50 });
}

export async function balanceOf(devnet: Devnet, who: Address): Promise<bigint> {
  return publicClient(devnet).readContract({
    address: devnet.usdc,
    abi: EIP3009_TOKEN_ARTIFACT.abi,
    functionName: 'balanceOf',
    args: [who],
  });
}

export async function authorizationState(devnet: Devnet, who: Address, nonce: Hex): Promise<boolean> {
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

export function requirementsV2(devnet: Devnet, payTo: Address, amount: bigint): PaymentRequirementsV2 {
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

export function requirementsV1(devnet: Devnet, payTo: Address, amount: bigint): PaymentRequirementsV1 {
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

export interface SignedAuthorization {
  readonly signature: Hex;
  readonly authorization: {
    readonly from: Address;
    readonly to: Address;
    readonly value: string;
    readonly validAfter: string;
    readonly validBefore: string;
    readonly nonce: Hex;
  };
}

/** Sign a real EIP-3009 TransferWithAuthorization for the devnet's USDC with `payer`'s key. */
export async function signAuthorization(devnet: Devnet, payer: DevnetAccount, o: SignOptions): Promise<SignedAuthorization> {
  const usdc = devnet.network.usdc!;
  const now = Math.floor(Date.now() / 1000);
  const message = {
    from: payer.address,
    to: getAddress(o.to),
    value: o.value,
    validAfter: BigInt(now + (o.validAfterOffset ?? -600)),
    validBefore: BigInt(now + (o.validBeforeOffset ?? 120)),
    nonce: o.nonce ?? (`0x${randomBytes(32).toString('hex')}`),
  };
  const signature = await privateKeyToAccount(payer.privateKey).signTypedData({
    domain: eip3009Domain(o.domainName ?? usdc.name, usdc.version, devnet.chainId, usdc.address),
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: 'TransferWithAuthorization',
    message,
  });
  return {
    signature,
    authorization: {
      from: message.from,
      to: message.to,
      value: message.value.toString(),
      validAfter: message.validAfter.toString(),
      validBefore: message.validBefore.toString(),
      nonce: message.nonce,
    },
  };
}

/** A v2 /verify|/settle request for a signed authorization against `requirements`. */
export function requestV2(requirements: PaymentRequirementsV2, signed: SignedAuthorization): FacilitatorRequest {
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
export function requestV1(requirements: PaymentRequirementsV1, signed: SignedAuthorization): FacilitatorRequest {
  return {
    x402Version: 1,
    paymentPayload: { x402Version: 1, scheme: 'exact', network: requirements.network, payload: signed },
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
  const signed = await signAuthorization(devnet, payer, { to: payTo, value, ...o });
  return { request: requestV2(requirementsV2(devnet, payTo, value), signed), signed };
}
