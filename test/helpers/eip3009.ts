/**
 * EIP-3009 `TransferWithAuthorization` (docs/protocol.md §8): the typed data, its domain, and the
 * one signer, checker and hasher of it. Every test helper that signs a payment (payments.ts, and
 * devnet.ts through it) or checks one (facilitator-server.ts) comes here, so both sides sign and
 * check exactly the same structure.
 */
import { randomBytes } from 'node:crypto';
import {
  getAddress,
  hashTypedData,
  verifyTypedData,
  type Address,
  type Hex,
  type LocalAccount,
  type TypedDataDomain,
} from 'viem';

export const TRANSFER_WITH_AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

export interface AuthorizationMessage {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly nonce: Hex;
}

/** A signed authorization as it travels in a payment payload (numbers as decimal strings). */
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

/** Domain `{name, version, chainId, verifyingContract: asset}` as USDC's FiatTokenV2 defines it. */
export function eip3009Domain(
  name: string,
  version: string,
  chainId: number,
  asset: string,
): TypedDataDomain {
  return { name, version, chainId, verifyingContract: getAddress(asset) };
}

/** A random EIP-3009 nonce: `0x` + 64 hex. */
export function randomNonce(): Hex {
  return `0x${randomBytes(32).toString('hex')}`;
}

function typedData(domain: TypedDataDomain, message: AuthorizationMessage) {
  return {
    domain,
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: 'TransferWithAuthorization',
    message,
  } as const;
}

/**
 * Sign `message` under `domain` with `account`. `message.from` is signed as given: another address
 * than the account's makes a signature that does not recover to `from`.
 */
export async function signTransferWithAuthorization(
  account: LocalAccount,
  domain: TypedDataDomain,
  message: AuthorizationMessage,
): Promise<SignedAuthorization> {
  const signature = await account.signTypedData(typedData(domain, message));
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

/** Whether `signature` over `message` under `domain` recovers to `signer` (false when malformed). */
export async function verifyTransferWithAuthorization(
  signer: Address,
  domain: TypedDataDomain,
  message: AuthorizationMessage,
  signature: Hex,
): Promise<boolean> {
  try {
    return await verifyTypedData({ address: signer, ...typedData(domain, message), signature });
  } catch {
    return false;
  }
}

/** The EIP-712 digest the token recovers the signer from. */
export function hashTransferWithAuthorization(
  domain: TypedDataDomain,
  message: AuthorizationMessage,
): Hex {
  return hashTypedData(typedData(domain, message));
}

/** EIP-3009 `CancelAuthorization` typed data, as USDC's FiatTokenV2 defines it. */
export const CANCEL_AUTHORIZATION_TYPES = {
  CancelAuthorization: [
    { name: 'authorizer', type: 'address' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

/** The authorizer's signature that cancels its unused authorization `nonce`. */
export function signCancelAuthorization(
  account: LocalAccount,
  domain: TypedDataDomain,
  nonce: Hex,
): Promise<Hex> {
  return account.signTypedData({
    domain,
    types: CANCEL_AUTHORIZATION_TYPES,
    primaryType: 'CancelAuthorization',
    message: { authorizer: account.address, nonce },
  });
}
