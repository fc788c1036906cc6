/**
 * x402 wire model (v1 and v2, `exact` scheme on EVM), written from the spec
 * (docs/protocol.md §3–§7). Field names and casing are wire-exact.
 * Amounts and timestamps are decimal strings on the wire; we never turn them into floats.
 */
import type { Address } from 'viem';
import type { AssetInfo, NetworkInfo } from '../chains/index.js';

/** EIP-712 domain hints sent in `extra` for EIP-3009 tokens. */
export interface Eip3009Extra {
  readonly name: string;
  readonly version: string;
}

/** v2 PaymentRequirements (one entry of `accepts`). */
export interface PaymentRequirementsV2 {
  readonly scheme: 'exact';
  /** CAIP-2, e.g. `eip155:8453`. */
  readonly network: string;
  /** Atomic units, decimal string. */
  readonly amount: string;
  readonly asset: string;
  readonly payTo: string;
  readonly maxTimeoutSeconds: number;
  readonly extra: Eip3009Extra;
}

/** v1 PaymentRequirements (one entry of the 402 body's `accepts`). */
export interface PaymentRequirementsV1 {
  readonly scheme: 'exact';
  /** v1 network name, e.g. `base-sepolia`. */
  readonly network: string;
  readonly maxAmountRequired: string;
  readonly resource: string;
  readonly description: string;
  readonly mimeType: string;
  readonly outputSchema?: Record<string, unknown> | null;
  readonly payTo: string;
  readonly maxTimeoutSeconds: number;
  readonly asset: string;
  readonly extra: Eip3009Extra;
}

/** v2 ResourceInfo. */
export interface ResourceInfo {
  readonly url: string;
  readonly description?: string;
  readonly mimeType?: string;
}

/** EIP-3009 `transferWithAuthorization` parameters as sent by clients. */
export interface ExactEvmAuthorization {
  readonly from: string;
  readonly to: string;
  readonly value: string;
  readonly validAfter: string;
  readonly validBefore: string;
  readonly nonce: string;
}

export interface ExactEvmPayload {
  readonly signature: string;
  readonly authorization: ExactEvmAuthorization;
}

/** v1 payment payload (`X-PAYMENT`). */
export interface PaymentPayloadV1 {
  readonly x402Version: 1;
  readonly scheme: string;
  readonly network: string;
  readonly payload: ExactEvmPayload;
}

/** v2 payment payload (`PAYMENT-SIGNATURE`, or `X-PAYMENT` from some clients). */
export interface PaymentPayloadV2 {
  readonly x402Version: 2;
  readonly resource?: ResourceInfo;
  /** The requirement the client chose, echoed verbatim (deep-equality matched). */
  readonly accepted: Readonly<Record<string, unknown>>;
  readonly payload: ExactEvmPayload;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

export type PaymentPayload = PaymentPayloadV1 | PaymentPayloadV2;
export type X402Version = PaymentPayload['x402Version'];

/** Facilitator `/verify` answer. */
export interface VerifyResponse {
  readonly isValid: boolean;
  readonly invalidReason?: string;
  readonly invalidMessage?: string;
  readonly payer?: string;
}

/** Facilitator `/settle` answer; also the body of the PAYMENT-RESPONSE / X-PAYMENT-RESPONSE header. */
export interface SettleResponse {
  readonly success: boolean;
  readonly errorReason?: string;
  readonly errorMessage?: string;
  readonly payer?: string;
  /** Tx hash; `""` when nothing was broadcast. */
  readonly transaction: string;
  /** Network in the payload version's form (v1 name or CAIP-2). */
  readonly network: string;
}

/** One `kinds` entry of `GET /supported`. */
export interface SupportedKind {
  readonly x402Version: number;
  readonly scheme: string;
  readonly network: string;
}

/**
 * One way to pay for a resource, precomputed at start-up (pricing builds it per route). The v1 and
 * v2 wire forms of the challenge are both derived from this single record so they can never
 * disagree.
 */
export interface Offer {
  readonly network: NetworkInfo;
  readonly asset: AssetInfo;
  readonly payTo: Address;
  readonly amount: bigint;
  /** `amount` as a decimal string, as on the wire. */
  readonly amountText: string;
  readonly maxTimeoutSeconds: number;
  /** Frozen v2 requirement, exactly as emitted in PAYMENT-REQUIRED and expected back in `accepted`. */
  readonly requirementsV2: PaymentRequirementsV2;
}

/**
 * What the wire says about a priced resource besides its offers: the challenge's `resource`
 * fields and v1's `outputSchema`. One frozen record per route; its identity keys the v1
 * requirements memo.
 */
export interface Resource {
  /** Route id, for error messages (never sent). */
  readonly id: string;
  readonly description: string;
  readonly mimeType: string;
  /** Upper-case method, or null for any method (v1 `outputSchema.input.method`). */
  readonly method: string | null;
}
