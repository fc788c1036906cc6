/**
 * zod schemas for the inbound payment payload (`PAYMENT-SIGNATURE` / `X-PAYMENT`, protocol doc
 * §3.2, §4.3) and the small format guards shared with precheck. Every regex here is a single
 * character class with bounded or unambiguous repetition, so matching is linear in the input.
 *
 * The schemas are typed against the contracts in ./types.ts, so the compiler proves that a
 * successful parse is a `PaymentPayloadV1` / `PaymentPayloadV2` without any cast.
 */
import { z } from 'zod/v4';
import type { Address, Hex } from 'viem';
import type {
  ExactEvmAuthorization,
  ExactEvmPayload,
  PaymentPayloadV1,
  PaymentPayloadV2,
  ResourceInfo,
} from './types.js';

/** EOA signature length: 0x + 65 bytes. Longer ones are smart-wallet (ERC-1271 / ERC-6492). */
export const MIN_SIGNATURE_HEX_CHARS = 130;
/**
 * Upper bound on signature hex chars (8 KiB of signature bytes). The header byte cap is the real
 * limit; this only keeps the field sane if that cap is raised.
 */
export const MAX_SIGNATURE_HEX_CHARS = 16384;
/** uint256 max has 78 decimal digits. */
export const MAX_UINT_DIGITS = 78;

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/;
const HEX_RE = /^0x[0-9a-fA-F]*$/;
/** Canonical unsigned decimal: no sign, no leading zeros except "0" itself, ≤ 78 digits. */
const UINT_RE = /^(?:0|[1-9][0-9]{0,77})$/;

/** 1 at the code units of 0-9, a-f and A-F. */
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;

/**
 * `0x` then hex digits only: what `HEX_RE` matches. A table walk, because every paid request checks
 * ~300 hex characters (signature, two addresses, nonce), some of them twice, and the regex's
 * per-call cost made that ~1 µs; the walk takes half. The schemas keep the regexes, and the
 * differential test holds both to the same verdicts.
 */
export function isHexString(value: string): value is Hex {
  if (value.charCodeAt(0) !== 48 || value.charCodeAt(1) !== 120) return false; // "0x"
  for (let i = 2; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || HEX_DIGIT[c] === 0) return false;
  }
  return true;
}

/** 0x + 40 hex chars, any case (checksum is the facilitator's business). */
export function isHexAddress(value: string): value is Address {
  return value.length === 42 && isHexString(value);
}

/** 0x + 64 hex chars (an EIP-3009 nonce). */
export function isBytes32(value: string): value is Hex {
  return value.length === 66 && isHexString(value);
}

/** Canonical unsigned decimal integer string of at most 78 digits. */
export function isUintString(value: string): boolean {
  return UINT_RE.test(value);
}

const addressSchema = z.string().length(42).regex(ADDRESS_RE, 'expected 0x + 40 hex');
const bytes32Schema = z.string().length(66).regex(BYTES32_RE, 'expected 0x + 64 hex');
const uintSchema = z
  .string()
  .max(MAX_UINT_DIGITS)
  .regex(UINT_RE, 'expected an unsigned decimal integer string');
const signatureSchema = z
  .string()
  .min(2 + MIN_SIGNATURE_HEX_CHARS)
  .max(2 + MAX_SIGNATURE_HEX_CHARS)
  .regex(HEX_RE, 'expected 0x + hex')
  .refine((s) => s.length % 2 === 0, 'expected whole bytes');

const authorizationSchema: z.ZodType<ExactEvmAuthorization, unknown> = z.object({
  from: addressSchema,
  to: addressSchema,
  value: uintSchema,
  validAfter: uintSchema,
  validBefore: uintSchema,
  nonce: bytes32Schema,
});

/** `payload` of the `exact` scheme on EVM (EIP-3009). */
export const exactEvmPayloadSchema: z.ZodType<ExactEvmPayload, unknown> = z.object({
  signature: signatureSchema,
  authorization: authorizationSchema,
});

/** Optional fields that official clients may send as `null` (their schemas use `nullish`). */
const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

const resourceInfoSchema: z.ZodType<ResourceInfo, unknown> = z
  .object({ url: z.string(), description: optionalString, mimeType: optionalString })
  .passthrough();

const recordSchema = z.record(z.string(), z.unknown());

/** v1 payload: no copy of the requirements; the server matches by scheme + network. */
export const paymentPayloadV1Schema: z.ZodType<PaymentPayloadV1, unknown> = z.object(
  {
    x402Version: z.literal(1),
    scheme: z.string().min(1).max(64),
    network: z.string().min(1).max(128),
    payload: exactEvmPayloadSchema,
  },
);

/** v2 payload: `accepted` is kept whole (every key) because it is matched by deep equality. */
export const paymentPayloadV2Schema: z.ZodType<PaymentPayloadV2, unknown> = z.object(
  {
    x402Version: z.literal(2),
    resource: resourceInfoSchema.nullish().transform((v) => v ?? undefined),
    accepted: recordSchema,
    payload: exactEvmPayloadSchema,
    extensions: recordSchema.nullish().transform((v) => v ?? undefined),
  },
);
