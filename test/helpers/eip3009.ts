/**
 * EIP-3009 `TransferWithAuthorization` typed data (x402-protocol.md §8), shared by the payment
 * builders and the test facilitator so both sides sign and check exactly the same structure.
 */
import { getAddress, type Address, type Hex, type TypedDataDomain } from 'viem';

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

/** Domain `{name, version, chainId, verifyingContract: asset}` as USDC's FiatTokenV2 defines it. */
export function eip3009Domain(
  name: string,
  version: string,
  chainId: number,
  asset: string,
): TypedDataDomain {
  return { name, version, chainId, verifyingContract: getAddress(asset) };
}
