/**
 * Money text → atomic token units, with string and bigint arithmetic only. A price never passes
 * through a JS number: 0.1 + 0.2 style rounding would charge the wrong amount, and the wire
 * compares amounts exactly.
 */

/** Result of parsing a price or an atomic amount. */
export type PriceParse =
  { readonly ok: true; readonly amount: bigint } | { readonly ok: false; readonly message: string };

/** EIP-3009 `value` is a uint256: nothing larger can ever be paid. */
const MAX_UINT256 = (1n << 256n) - 1n;

/** Decimal strings longer than this are refused before any bigint work (uint256 has 78 digits). */
const MAX_DIGITS = 100;

function isDigits(text: string, from: number, to: number): boolean {
  if (from >= to) return false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function bounded(amount: bigint): PriceParse {
  return amount > MAX_UINT256
    ? { ok: false, message: 'is larger than a uint256 token amount can be' }
    : { ok: true, amount };
}

/**
 * Parse a human price in whole tokens — `"$0.01"`, `"0.01"`, `"0"`, `"$0"` — into atomic units of
 * an asset with `decimals` decimals (USDC: 6, so `"$0.001"` → `1000n`). The `$` is only decoration:
 * the amount is in the asset's whole units. Rejected: empty, sign, exponent, thousands separators,
 * whitespace, a bare `.5` or `5.`, and non-zero digits past the asset's precision (a positive price
 * below one atomic unit can't be charged). Trailing zeros past the precision are accepted, since
 * they change nothing (`"0.0000010"` → `1n`).
 */
export function parsePrice(text: string, decimals: number): PriceParse {
  if (!Number.isInteger(decimals) || decimals < 0) {
    throw new RangeError(`parsePrice: decimals must be a non-negative integer, got ${decimals}`);
  }
  const start = text.startsWith('$') ? 1 : 0;
  if (text.length === start) return { ok: false, message: 'price is empty' };
  if (text.length - start > MAX_DIGITS) return { ok: false, message: 'price has too many digits' };
  const dot = text.indexOf('.', start);
  const intEnd = dot === -1 ? text.length : dot;
  const shape =
    `price ${JSON.stringify(text)} must be` +
    ' a plain decimal number of whole tokens such as "$0.01", "0.01" or 0 ' +
    '(no sign, exponent, separators or spaces)';
  if (!isDigits(text, start, intEnd)) return { ok: false, message: shape };
  let frac = '';
  if (dot !== -1) {
    if (!isDigits(text, dot + 1, text.length)) return { ok: false, message: shape };
    frac = text.slice(dot + 1);
  }
  if (frac.length > decimals) {
    const excess = frac.slice(decimals);
    if (/[1-9]/.test(excess)) {
      const unit = decimals === 0 ? '1' : `0.${'0'.repeat(decimals - 1)}1`;
      return {
        ok: false,
        message:
          `price ${text} has more decimal places than the asset's ${decimals}: ` +
          `the smallest payable amount is ${unit}`,
      };
    }
    frac = frac.slice(0, decimals);
  }
  const whole = text.slice(start, intEnd) + frac.padEnd(decimals, '0');
  return bounded(BigInt(whole));
}

/**
 * Parse an amount already in atomic units: a decimal-integer string (`"10000"`). No sign, no
 * decimal point, no exponent; at most a uint256.
 */
export function parseAtomicAmount(text: string): PriceParse {
  if (text.length > MAX_DIGITS) return { ok: false, message: 'amount has too many digits' };
  if (!isDigits(text, 0, text.length)) {
    return {
      ok: false,
      message:
        'amount must be a decimal integer string of atomic units such as "10000", ' +
        `got ${JSON.stringify(text)}`,
    };
  }
  return bounded(BigInt(text));
}

/** Format atomic units back to whole tokens for messages and logs (`1000n`, 6 → `"0.001"`). */
export function formatAmount(amount: bigint, decimals: number): string {
  const negative = amount < 0n;
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, '0');
  const int = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, '');
  return (negative ? '-' : '') + (frac ? `${int}.${frac}` : int);
}
