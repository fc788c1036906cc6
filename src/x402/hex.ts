/**
 * The format guards of the payment payload's fields (hex, addresses, nonces, unsigned decimals) and
 * their length bounds, shared by the payload check and precheck. Every regex here is a single
 * character class with bounded or unambiguous repetition, so matching is linear in the input.
 * test/helpers/reference-schemas.ts states the same rules as zod schemas, and a differential test
 * holds the hand-written check to them.
 */
import type { Address, Hex } from 'viem';

/** EOA signature length: 0x + 65 bytes. Longer ones are smart-wallet (ERC-1271 / ERC-6492). */
export const MIN_SIGNATURE_HEX_CHARS = 130;
/**
 * Upper bound on signature hex chars (8 KiB of signature bytes). The header byte cap is the real
 * limit; this only keeps the field sane if that cap is raised.
 */
export const MAX_SIGNATURE_HEX_CHARS = 16384;
/** uint256 max has 78 decimal digits. */
export const MAX_UINT_DIGITS = 78;

export const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
export const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/;
export const HEX_RE = /^0x[0-9a-fA-F]*$/;
/** Canonical unsigned decimal: no sign, no leading zeros except "0" itself, ≤ 78 digits. */
export const UINT_RE = /^(?:0|[1-9][0-9]{0,77})$/;

/** 1 at the code units of 0-9, a-f and A-F. */
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;

/**
 * `0x` then hex digits only: what `HEX_RE` matches. A table walk, because every paid request checks
 * ~300 hex characters (signature, two addresses, nonce), some of them twice, and the regex's
 * per-call cost made that ~1 µs; the walk takes half. The reference schemas keep the regexes, and
 * the differential test holds both to the same verdicts.
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
