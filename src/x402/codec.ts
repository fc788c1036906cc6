/**
 * Decoding and encoding of x402 header values: standard padded base64 (RFC 4648 §4) of UTF-8 JSON
 * (protocol doc §2). Decoding is a trust boundary: size cap first, then a strict linear-time base64
 * check, strict UTF-8, JSON, and the zod schema. Expected failures are returned, never thrown.
 */
import { Buffer } from 'node:buffer';
import type { z } from 'zod/v4';
import { REASON } from './reasons.js';
import { paymentPayloadV1Schema, paymentPayloadV2Schema } from './schemas.js';
import type { PaymentPayload } from './types.js';

export type DecodeResult =
  | {
      readonly ok: true;
      readonly payload: PaymentPayload;
      /** The parsed JSON object exactly as sent: forwarded to the facilitator as `paymentPayload`. */
      readonly raw: unknown;
    }
  | {
      readonly ok: false;
      /** Malformed: size, base64, UTF-8, JSON or schema. */
      readonly reason: typeof REASON.invalidPaymentHeader;
      /** Short, bounded human detail for logs (never echoes the header). */
      readonly detail: string;
    }
  | {
      readonly ok: false;
      /** Well-formed, but `x402Version` is a number other than 1 or 2. */
      readonly reason: typeof REASON.invalidX402Version;
      readonly detail: string;
    };

/**
 * Standard alphabet, then at most two `=` at the very end. The class excludes `=`, so there is no
 * backtracking: one pass over the string.
 */
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Fatal: invalid UTF-8 is an error, not U+FFFD. ignoreBOM: a BOM stays and JSON.parse refuses it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const MAX_DETAIL_CHARS = 160;

function malformed(detail: string): DecodeResult {
  return { ok: false, reason: REASON.invalidPaymentHeader, detail };
}

/**
 * True when the unused low bits of the last data character are zero, i.e. the string is the one
 * canonical encoding of its bytes (RFC 4648 §3.5). Node's decoder would silently drop them.
 */
function hasCanonicalTail(value: string): boolean {
  const len = value.length;
  if (value.charCodeAt(len - 1) !== 0x3d /* = */) return true;
  const twoPad = value.charCodeAt(len - 2) === 0x3d;
  const last = BASE64_ALPHABET.indexOf(value.charAt(len - (twoPad ? 3 : 2)));
  return (last & (twoPad ? 0x0f : 0x03)) === 0;
}

function zodDetail(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'schema validation failed';
  const where = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${where}: ${issue.message}`.slice(0, MAX_DETAIL_CHARS);
}

/**
 * Decode a `PAYMENT-SIGNATURE` / `X-PAYMENT` header value.
 *
 * @param value the header value as received (node gives a latin1 string, so length = bytes)
 * @param maxBytes cap on the encoded length, checked before any decoding work
 */
export function decodePaymentHeader(value: string, maxBytes: number): DecodeResult {
  if (value.length > maxBytes) return malformed(`header exceeds ${maxBytes} bytes`);
  if (value.length === 0 || value.length % 4 !== 0 || !BASE64_RE.test(value)) {
    return malformed('not padded standard base64');
  }
  if (!hasCanonicalTail(value)) return malformed('non-canonical base64 padding bits');

  let text: string;
  try {
    text = UTF8.decode(Buffer.from(value, 'base64'));
  } catch {
    return malformed('not UTF-8');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return malformed('not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return malformed('not a JSON object');
  }

  const version: unknown = 'x402Version' in raw ? raw.x402Version : undefined;
  if (version === 1) {
    const parsed = paymentPayloadV1Schema.safeParse(raw);
    return parsed.success
      ? { ok: true, payload: parsed.data, raw }
      : malformed(zodDetail(parsed.error));
  }
  if (version === 2) {
    const parsed = paymentPayloadV2Schema.safeParse(raw);
    return parsed.success
      ? { ok: true, payload: parsed.data, raw }
      : malformed(zodDetail(parsed.error));
  }
  if (typeof version === 'number') {
    return {
      ok: false,
      reason: REASON.invalidX402Version,
      detail: `unsupported x402Version ${String(version).slice(0, 24)}`,
    };
  }
  return malformed('x402Version: expected a number');
}

/** Standard padded base64 of the UTF-8 JSON of `obj`: the form of every x402 header value. */
export function encodeHeaderJson(obj: object): string {
  return Buffer.from(JSON.stringify(obj), 'utf8').toString('base64');
}
