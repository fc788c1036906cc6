import { describe, expect, it } from 'vitest';
import { isBytes32, isHexAddress, isHexString } from '../../../src/x402/hex.js';

// The regexes the hand-written walk replaces, as the reference for every verdict.
const HEX_RE = /^0x[0-9a-fA-F]*$/;
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const BYTES32_RE = /^0x[0-9a-fA-F]{64}$/;

const ADDRESS = '0x' + 'aB3dEf0123456789'.repeat(3).slice(0, 40);
const NONCE = '0x' + '0123456789abcdefABCDEF'.repeat(3).slice(0, 64);

/** The string with the code unit at `i` replaced by `c`. */
const put = (s: string, i: number, c: string): string => s.slice(0, i) + c + s.slice(i + 1);

describe('isHexString / isHexAddress / isBytes32', () => {
  it('agree with the regexes for every code unit 0–511 at the prefix, the middle and the end', () => {
    let refused = 0;
    for (const base of [ADDRESS, NONCE]) {
      for (const i of [0, 1, 2, 21, base.length - 1]) {
        for (let code = 0; code < 512; code++) {
          const s = put(base, i, String.fromCharCode(code));
          expect(isHexString(s), s).toBe(HEX_RE.test(s));
          expect(isHexAddress(s), s).toBe(ADDRESS_RE.test(s));
          expect(isBytes32(s), s).toBe(BYTES32_RE.test(s));
          if (!HEX_RE.test(s)) refused++;
        }
      }
    }
    // Most substitutions break the string: the comparison above is not vacuous.
    expect(refused).toBeGreaterThan(4000);
  });

  it('agree with the regexes on lengths, prefixes and astral characters', () => {
    const cases = [
      '',
      '0',
      '0x',
      '0X',
      'x0',
      '0x0',
      '0X' + ADDRESS.slice(2),
      ADDRESS + '0',
      ADDRESS.slice(0, -1),
      NONCE + 'a',
      NONCE.slice(0, -1),
      '0x' + '😀'.repeat(20),
      ' ' + ADDRESS.slice(1),
      ADDRESS + '\n',
    ];
    for (const s of cases) {
      expect(isHexString(s), JSON.stringify(s)).toBe(HEX_RE.test(s));
      expect(isHexAddress(s), JSON.stringify(s)).toBe(ADDRESS_RE.test(s));
      expect(isBytes32(s), JSON.stringify(s)).toBe(BYTES32_RE.test(s));
    }
    expect(isHexAddress(ADDRESS)).toBe(true);
    expect(isBytes32(NONCE)).toBe(true);
  });
});
