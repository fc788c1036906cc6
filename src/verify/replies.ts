/**
 * Facilitator replies (docs/protocol.md §7.2). A reply is a trust boundary: it is parsed, never
 * cast. Optional strings also accept `null` (some facilitators serialise absent fields that way)
 * and come out absent, so parsed values fit `VerifyResponse` / `SettleResponse`; unknown keys are
 * dropped.
 *
 * Verify and settle replies are checked by hand: they are on every paid request (two per request),
 * and zod's copy plus the removal of its `undefined` keys cost ~2.5 µs of CPU per paid request in a
 * profile under load, for two flat objects of at most six keys. `/supported` is read once a minute:
 * zod keeps it.
 */
import { z } from 'zod';
import type { SettleResponse, VerifyResponse } from '../x402/index.js';
import type { SupportedResponse } from './types.js';
import { isJsonObject, isOptionalString, type Writable } from '../lib/index.js';

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

/**
 * Parse a decoded JSON value as a verify reply `{isValid, invalidReason?, invalidMessage?, payer?}`;
 * undefined when it does not match.
 */
export function parseVerifyReply(json: unknown): VerifyResponse | undefined {
  if (!isJsonObject(json)) return undefined;
  const { isValid, invalidReason, invalidMessage, payer } = json;
  if (typeof isValid !== 'boolean') return undefined;
  if (
    !isOptionalString(invalidReason) ||
    !isOptionalString(invalidMessage) ||
    !isOptionalString(payer)
  ) {
    return undefined;
  }
  const reply: Writable<VerifyResponse> = { isValid };
  if (typeof invalidReason === 'string') reply.invalidReason = invalidReason;
  if (typeof invalidMessage === 'string') reply.invalidMessage = invalidMessage;
  if (typeof payer === 'string') reply.payer = payer;
  return reply;
}

/**
 * Parse a decoded JSON value as a settle reply `{success, errorReason?, errorMessage?, payer?,
 * transaction ("" when absent), network}`; undefined when it does not match.
 */
export function parseSettleReply(json: unknown): SettleResponse | undefined {
  if (!isJsonObject(json)) return undefined;
  const { success, errorReason, errorMessage, payer, transaction, network } = json;
  if (typeof success !== 'boolean' || typeof network !== 'string') return undefined;
  if (
    !isOptionalString(errorReason) ||
    !isOptionalString(errorMessage) ||
    !isOptionalString(payer) ||
    !isOptionalString(transaction)
  ) {
    return undefined;
  }
  const reply: Writable<SettleResponse> = { success, transaction: transaction ?? '', network };
  if (typeof errorReason === 'string') reply.errorReason = errorReason;
  if (typeof errorMessage === 'string') reply.errorMessage = errorMessage;
  if (typeof payer === 'string') reply.payer = payer;
  return reply;
}

/** Parse a decoded JSON value as a `/supported` reply; undefined when it does not match. */
export function parseSupportedReply(json: unknown): SupportedResponse | undefined {
  const r = supportedReplySchema.safeParse(json);
  return r.success ? r.data : undefined;
}
