/**
 * Builders of REAL x402 payments for tests: EIP-3009 `TransferWithAuthorization` signed with viem,
 * the way SDK clients sign them (validAfter = now − 600, validBefore = now + maxTimeoutSeconds,
 * random 32-byte nonce, value = amount; docs/protocol.md §8). Every field can be overridden to
 * craft a payment that a facilitator must reject (wrong recipient or amount, expired, wrong signer).
 * The signing itself is eip3009.ts's.
 */
import { getAddress, type Address, type Hex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { findNetwork, BASE_SEPOLIA } from '../../src/chains/networks.js';
import type {
  Eip3009Extra,
  ExactEvmPayload,
  PaymentPayloadV1,
  PaymentPayloadV2,
  PaymentRequirementsV1,
  PaymentRequirementsV2,
  ResourceInfo,
} from '../../src/x402/types.js';
import {
  eip3009Domain,
  randomNonce,
  signTransferWithAuthorization,
  type SignedAuthorization,
} from './eip3009.js';

/** Well-known development keys (anvil/hardhat accounts 0–4). Never hold real funds with them. */
export const TEST_PRIVATE_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
] as const satisfies readonly Hex[];

/** A signing account for test payer number `index` (0–4). */
export function testAccount(index = 0): LocalAccount {
  const key = TEST_PRIVATE_KEYS[index];
  if (key === undefined) throw new RangeError(`no test key #${index}`);
  return privateKeyToAccount(key);
}

/** The gateway operator's receiving address in tests. */
export const TEST_PAY_TO: Address = '0x1111111111111111111111111111111111111111';

/** A v1 requirement on Base Sepolia USDC (1000 atomic units = $0.001); fields can be overridden. */
export function exampleRequirementV1(
  overrides: Partial<PaymentRequirementsV1> = {},
): PaymentRequirementsV1 {
  const usdc = BASE_SEPOLIA.usdc!;
  return {
    scheme: 'exact',
    network: BASE_SEPOLIA.v1Name,
    maxAmountRequired: '1000',
    resource: 'http://127.0.0.1/v1/quote',
    description: '',
    mimeType: 'application/json',
    payTo: TEST_PAY_TO,
    maxTimeoutSeconds: 120,
    asset: usdc.address,
    extra: { name: usdc.name, version: usdc.version },
    ...overrides,
  };
}

/** A v2 requirement on Base Sepolia USDC (1000 atomic units); fields can be overridden. */
export function exampleRequirementV2(
  overrides: Partial<PaymentRequirementsV2> = {},
): PaymentRequirementsV2 {
  const usdc = BASE_SEPOLIA.usdc!;
  return {
    scheme: 'exact',
    network: BASE_SEPOLIA.caip2,
    amount: '1000',
    asset: usdc.address,
    payTo: TEST_PAY_TO,
    maxTimeoutSeconds: 120,
    extra: { name: usdc.name, version: usdc.version },
    ...overrides,
  };
}

/** Fields of the authorization and its signature that a test may force. */
export interface AuthorizationOverrides {
  /** Signed `value`; default the requirement's amount. */
  readonly value?: bigint | string;
  /** Signed recipient; default the requirement's `payTo`. */
  readonly to?: string;
  /** `authorization.from` as sent; default the signer. Another one makes the signature invalid. */
  readonly from?: string;
  /** Unix seconds; default `now − 600`. */
  readonly validAfter?: bigint | number | string;
  /** Unix seconds; default `now + maxTimeoutSeconds`. */
  readonly validBefore?: bigint | number | string;
  /** 32-byte hex; default random. */
  readonly nonce?: Hex;
  /** Clock for the defaults, unix seconds; default the real time. */
  readonly nowSec?: number;
  /** Domain overrides, to sign for the wrong chain, token or token version. */
  readonly chainId?: number;
  readonly domainName?: string;
  readonly domainVersion?: string;
  readonly verifyingContract?: string;
}

/** The requirement fields that shape an authorization (common to v1 and v2 offers). */
export interface OfferFields {
  /** v1 name or CAIP-2; resolves the chain id of the domain. */
  readonly network: string;
  readonly asset: string;
  readonly payTo: string;
  /** Atomic units. */
  readonly amount: bigint | string;
  readonly maxTimeoutSeconds?: number;
  readonly extra: Eip3009Extra;
}

export interface SignAuthorizationOptions extends OfferFields, AuthorizationOverrides {
  readonly account: LocalAccount;
}

/** Sign an EIP-3009 authorization for an offer; returns the `payload` of a PaymentPayload. */
export async function signAuthorization(
  options: SignAuthorizationOptions,
): Promise<SignedAuthorization> {
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  const chainId = options.chainId ?? findNetwork(options.network)?.chainId;
  if (chainId === undefined) throw new Error(`unknown network ${options.network}: pass chainId`);
  const domain = eip3009Domain(
    options.domainName ?? options.extra.name,
    options.domainVersion ?? options.extra.version,
    chainId,
    options.verifyingContract ?? options.asset,
  );
  return signTransferWithAuthorization(options.account, domain, {
    from: getAddress(options.from ?? options.account.address),
    to: getAddress(options.to ?? options.payTo),
    value: BigInt(options.value ?? options.amount),
    validAfter: BigInt(options.validAfter ?? now - 600),
    validBefore: BigInt(options.validBefore ?? now + (options.maxTimeoutSeconds ?? 120)),
    nonce: options.nonce ?? randomNonce(),
  });
}

export interface BuildPayloadOptions extends AuthorizationOverrides {
  readonly account: LocalAccount;
}

/** A v1 `X-PAYMENT` payload for `requirement`; `scheme`/`network` of the payload may be forced. */
export async function buildV1Payload(
  requirement: PaymentRequirementsV1,
  options: BuildPayloadOptions & { readonly scheme?: string; readonly network?: string },
): Promise<PaymentPayloadV1> {
  const payload = await signAuthorization({
    ...options,
    network: requirement.network,
    asset: requirement.asset,
    payTo: requirement.payTo,
    amount: requirement.maxAmountRequired,
    maxTimeoutSeconds: requirement.maxTimeoutSeconds,
    extra: requirement.extra,
  });
  return {
    x402Version: 1,
    scheme: options.scheme ?? requirement.scheme,
    network: options.network ?? requirement.network,
    payload,
  };
}

/** A v2 `PAYMENT-SIGNATURE` payload echoing `accepted` verbatim (as the v2 SDK client does). */
export async function buildV2Payload(
  accepted: PaymentRequirementsV2,
  options: BuildPayloadOptions & {
    readonly resource?: ResourceInfo;
    readonly extensions?: Readonly<Record<string, unknown>>;
  },
): Promise<PaymentPayloadV2> {
  const payload = await signAuthorization({
    ...options,
    network: accepted.network,
    asset: accepted.asset,
    payTo: accepted.payTo,
    amount: accepted.amount,
    maxTimeoutSeconds: accepted.maxTimeoutSeconds,
    extra: accepted.extra,
  });
  return {
    x402Version: 2,
    ...(options.resource === undefined ? {} : { resource: options.resource }),
    accepted: { ...accepted },
    payload,
    ...(options.extensions === undefined ? {} : { extensions: options.extensions }),
  };
}

/** Header value for `X-PAYMENT` / `PAYMENT-SIGNATURE`: padded standard base64 of the JSON. */
export function encodePaymentHeader(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** The same payment with its signature altered (one nibble of `r` flipped), still valid hex. */
export function tamperSignature<P extends { readonly payload: ExactEvmPayload }>(payment: P): P {
  const sig = payment.payload.signature;
  const i = 10; // inside r
  const flipped = sig[i] === '0' ? '1' : '0';
  return {
    ...payment,
    payload: { ...payment.payload, signature: `${sig.slice(0, i)}${flipped}${sig.slice(i + 1)}` },
  };
}

/** The authorization inside a decoded payment payload (v1 or v2). */
export function authorizationOf(payload: unknown): { from: Address; nonce: Hex } {
  return (payload as { payload: { authorization: { from: Address; nonce: Hex } } }).payload
    .authorization;
}
