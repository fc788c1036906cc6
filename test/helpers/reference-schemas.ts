/**
 * The payment payload's rules as zod schemas: the readable reference that the hand-written check on
 * the request path (src/x402/payload-check.ts) is held to by a differential test over every golden
 * vector and its mutations. Typed against src/x402/types.ts, so the compiler proves that a
 * successful parse is a `PaymentPayloadV1` / `PaymentPayloadV2` without any cast.
 */
import { z } from 'zod';
import {
  ADDRESS_RE,
  BYTES32_RE,
  HEX_RE,
  MAX_SIGNATURE_HEX_CHARS,
  MAX_UINT_DIGITS,
  MIN_SIGNATURE_HEX_CHARS,
  UINT_RE,
} from '../../src/x402/hex.js';
import type {
  ExactEvmAuthorization,
  ExactEvmPayload,
  PaymentPayloadV1,
  PaymentPayloadV2,
  ResourceInfo,
} from '../../src/x402/types.js';

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

const authorizationSchema: z.ZodType<ExactEvmAuthorization, z.ZodTypeDef, unknown> = z.object({
  from: addressSchema,
  to: addressSchema,
  value: uintSchema,
  validAfter: uintSchema,
  validBefore: uintSchema,
  nonce: bytes32Schema,
});

/** `payload` of the `exact` scheme on EVM (EIP-3009). */
export const exactEvmPayloadSchema: z.ZodType<ExactEvmPayload, z.ZodTypeDef, unknown> = z.object({
  signature: signatureSchema,
  authorization: authorizationSchema,
});

/** Optional fields that official clients may send as `null` (their schemas use `nullish`). */
const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

const resourceInfoSchema: z.ZodType<ResourceInfo, z.ZodTypeDef, unknown> = z
  .object({ url: z.string(), description: optionalString, mimeType: optionalString })
  .passthrough();

const recordSchema = z.record(z.string(), z.unknown());

/** v1 payload: no copy of the requirements; the server matches by scheme + network. */
export const paymentPayloadV1Schema: z.ZodType<PaymentPayloadV1, z.ZodTypeDef, unknown> = z.object({
  x402Version: z.literal(1),
  scheme: z.string().min(1).max(64),
  network: z.string().min(1).max(128),
  payload: exactEvmPayloadSchema,
});

/** v2 payload: `accepted` is kept whole (every key) because it is matched by deep equality. */
export const paymentPayloadV2Schema: z.ZodType<PaymentPayloadV2, z.ZodTypeDef, unknown> = z.object({
  x402Version: z.literal(2),
  resource: resourceInfoSchema.nullish().transform((v) => v ?? undefined),
  accepted: recordSchema,
  payload: exactEvmPayloadSchema,
  extensions: recordSchema.nullish().transform((v) => v ?? undefined),
});
