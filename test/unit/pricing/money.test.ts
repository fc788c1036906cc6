import { describe, expect, it } from 'vitest';
import { formatAmount, parseAtomicAmount, parsePrice } from '../../../src/pricing/money.js';

const USDC = 6;

function amountOf(text: string, decimals = USDC): bigint {
  const r = parsePrice(text, decimals);
  if (!r.ok) throw new Error(`expected ${text} to parse: ${r.message}`);
  return r.amount;
}

function errorOf(text: string, decimals = USDC): string {
  const r = parsePrice(text, decimals);
  if (r.ok) throw new Error(`expected ${text} to be refused, got ${r.amount}`);
  return r.message;
}

describe('parsePrice', () => {
  it('turns dollar prices into atomic units of a 6-decimal asset', () => {
    expect(amountOf('$0.001')).toBe(1000n);
    expect(amountOf('$0.01')).toBe(10_000n);
    expect(amountOf('$1')).toBe(1_000_000n);
    expect(amountOf('12.5')).toBe(12_500_000n);
  });

  it('reads one atomic unit exactly', () => {
    expect(amountOf('0.000001')).toBe(1n);
  });

  it('treats 0, "0" and "$0" as free', () => {
    expect(amountOf('0')).toBe(0n);
    expect(amountOf('$0')).toBe(0n);
    expect(amountOf('0.000')).toBe(0n);
  });

  it('refuses a positive price below one atomic unit', () => {
    expect(errorOf('0.0000001')).toMatch(/more decimal places than the asset's 6/);
  });

  it('accepts trailing zeros past the precision because they change nothing', () => {
    expect(amountOf('0.0000010')).toBe(1n);
  });

  it('never goes through a float: 0.1 + 0.2 style values stay exact', () => {
    expect(amountOf('0.3', 18)).toBe(300_000_000_000_000_000n);
    expect(amountOf('123456789.123456789', 18)).toBe(123_456_789_123_456_789_000_000_000n);
  });

  it.each([
    ['1e-3', 'exponent notation'],
    ['-1', 'a negative price'],
    ['$-1', 'a negative dollar price'],
    ['+1', 'an explicit sign'],
    ['$1,000', 'thousands separators'],
    ['', 'empty text'],
    ['$', 'a bare dollar sign'],
    ['abc', 'words'],
    [' 1', 'leading space'],
    ['1 ', 'trailing space'],
    ['.5', 'a missing integer part'],
    ['5.', 'a missing fraction'],
    ['0x10', 'hex'],
    ['.inf', 'YAML infinity'],
    ['1.2.3', 'two dots'],
  ])('refuses %j (%s)', (text) => {
    expect(errorOf(text)).toBeTypeOf('string');
  });

  it('refuses amounts larger than a uint256', () => {
    expect(errorOf('1' + '0'.repeat(78), 0)).toMatch(/uint256/);
  });

  it('handles zero-decimal assets', () => {
    expect(amountOf('7', 0)).toBe(7n);
    expect(errorOf('7.5', 0)).toMatch(/smallest payable amount is 1/);
  });
});

describe('parseAtomicAmount', () => {
  it('reads a decimal integer string of atomic units', () => {
    expect(parseAtomicAmount('10000')).toEqual({ ok: true, amount: 10_000n });
  });

  it.each(['1.5', '-1', '1e3', '', ' 1', '0x10'])('refuses %j', (text) => {
    expect(parseAtomicAmount(text).ok).toBe(false);
  });
});

describe('formatAmount', () => {
  it('prints atomic units back as whole tokens', () => {
    expect(formatAmount(1000n, 6)).toBe('0.001');
    expect(formatAmount(1_500_000n, 6)).toBe('1.5');
    expect(formatAmount(0n, 6)).toBe('0');
  });
});
