import { describe, expect, it } from 'vitest';
import {
  csvField,
  csvLine,
  formatUnits,
  printable,
  table,
} from '../../../../../src/cli/commands/ledger/format.js';

describe('formatUnits', () => {
  it.each([
    ['0', 6, '0'],
    ['1', 6, '0.000001'],
    ['1500000', 6, '1.5'],
    ['1000000', 6, '1'],
    ['1234567', 6, '1.234567'],
    ['9007199254740993', 6, '9007199254.740993'],
    ['9007199254740993', 0, '9007199254740993'],
    ['1230000000000000000', 18, '1.23'],
    ['5', 18, '0.000000000000000005'],
  ])('%s with %i decimals → %s', (atomic, decimals, units) => {
    expect(formatUnits(atomic, decimals)).toBe(units);
  });

  it('is exact for any size (integer arithmetic only)', () => {
    const max = 2n ** 256n - 1n;
    expect(formatUnits(max, 18)).toBe(
      '115792089237316195423570985008687907853269984665640564039457.584007913129639935',
    );
    expect(formatUnits(-1500000n, 6)).toBe('-1.5');
  });

  it('refuses decimals that are not a non-negative integer', () => {
    expect(() => formatUnits('1', -1)).toThrow(RangeError);
    expect(() => formatUnits('1', 1.5)).toThrow(RangeError);
  });
});

describe('CSV', () => {
  it('quotes a field only when it must, doubling its quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField(42)).toBe('42');
    expect(csvField(undefined)).toBe('');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\r')).toBe('"cr\r"');
    expect(csvField(' edge')).toBe('" edge"');
    expect(csvLine(['a', undefined, 'b,c', 3])).toBe('a,,"b,c",3\n');
  });
});

describe('table', () => {
  it('aligns columns, numbers to the right, and never pads the last column', () => {
    expect(
      table(
        [
          ['NAME', 'COUNT', 'NOTE'],
          ['settled', '12', 'x'],
          ['unknown', '3', ''],
        ],
        new Set([1]),
      ),
    ).toBe('NAME     COUNT  NOTE\nsettled     12  x\nunknown      3\n');
  });

  it('shows control characters as escapes (a path may carry terminal escapes)', () => {
    expect(printable('/a\u001b[31mred\n')).toBe('/a\\u001b[31mred\\u000a');
    expect(table([['\u0007']])).toBe('\\u0007\n');
  });
});
