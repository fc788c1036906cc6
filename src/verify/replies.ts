/**
 * zod schemas of facilitator replies (x402-protocol.md §7). A reply is a trust boundary: it is
 * parsed, never cast. Optional strings also accept `null` (some facilitators serialise absent
 * fields that way) and come out absent, so parsed values fit `VerifyResponse` / `SettleResponse`.
 */
import { z } from 'zod/v4';
import type { SettleResponse, VerifyResponse } from '../x402/types.js';
import type { SupportedResponse } from './types.js';

const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

/** `{isValid, invalidReason?, invalidMessage?, payer?}`; unknown keys are dropped. */
export const verifyReplySchema = z.object({
  isValid: z.boolean(),
  invalidReason: optionalString,
  invalidMessage: optionalString,
  payer: optionalString,
});

/** `{success, errorReason?, errorMessage?, payer?, transaction ("" when absent), network}`. */
export const settleReplySchema = z.object({
  success: z.boolean(),
  errorReason: optionalString,
  errorMessage: optionalString,
  payer: optionalString,
  transaction: z
    .string()
    .nullish()
    .transform((v) => v ?? ''),
  network: z.string(),
});

const supportedKindSchema = z
  .object({
    x402Version: z.number().int(),
    scheme: z.string(),
    network: z.string(),
    extra: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/** `{kinds: [...], extensions?, signers?}`; extra keys are kept (passthrough). */
export const supportedReplySchema = z
  .object({
    kinds: z.array(supportedKindSchema),
    // Shapes differ between facilitators (arrays of names, maps of signer lists): kept, not
    // checked, so an unexpected form here cannot stop the gateway from starting.
    extensions: z.unknown().optional(),
    signers: z.unknown().optional(),
  })
  .passthrough();

/** Parse a decoded JSON value as a verify reply; undefined when it does not match. */
export function parseVerifyReply(json: unknown): VerifyResponse | undefined {
  const r = verifyReplySchema.safeParse(json);
  return r.success ? dropUndefined(r.data) : undefined;
}

/** Parse a decoded JSON value as a settle reply; undefined when it does not match. */
export function parseSettleReply(json: unknown): SettleResponse | undefined {
  const r = settleReplySchema.safeParse(json);
  return r.success ? dropUndefined(r.data) : undefined;
}

/** Parse a decoded JSON value as a `/supported` reply; undefined when it does not match. */
export function parseSupportedReply(json: unknown): SupportedResponse | undefined {
  const r = supportedReplySchema.safeParse(json);
  return r.success ? r.data : undefined;
}

/** Remove keys whose value is undefined so results deep-equal what the facilitator sent. */
function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) {
    if (o[k] === undefined) delete o[k];
  }
  return o;
}
