import { describe, expect, it } from 'vitest';
import {
  parseSettleReply,
  parseSupportedReply,
  parseVerifyReply,
} from '../../../src/verify/replies.js';

describe('parseVerifyReply', () => {
  it('accepts a positive answer and keeps the payer', () => {
    expect(parseVerifyReply({ isValid: true, payer: '0xabc' })).toEqual({
      isValid: true,
      payer: '0xabc',
    });
  });

  it('accepts a negative answer with reason and message, dropping unknown keys', () => {
    expect(
      parseVerifyReply({ isValid: false, invalidReason: 'r', invalidMessage: 'm', extra: 1 }),
    ).toEqual({ isValid: false, invalidReason: 'r', invalidMessage: 'm' });
  });

  it('reads null optional fields as absent', () => {
    const r = parseVerifyReply({ isValid: false, invalidReason: null, payer: null });
    expect(r).toEqual({ isValid: false });
    expect(r && 'invalidReason' in r).toBe(false);
  });

  it('rejects a body without a boolean isValid', () => {
    expect(parseVerifyReply({ isValid: 'true' })).toBeUndefined();
    expect(parseVerifyReply({ error: 'boom' })).toBeUndefined();
    expect(parseVerifyReply(undefined)).toBeUndefined();
    expect(parseVerifyReply('<html>')).toBeUndefined();
    expect(parseVerifyReply(null)).toBeUndefined();
    expect(parseVerifyReply([true])).toBeUndefined();
  });

  it('rejects optional fields of the wrong type instead of dropping them', () => {
    expect(parseVerifyReply({ isValid: true, payer: 42 })).toBeUndefined();
    expect(parseVerifyReply({ isValid: false, invalidReason: { code: 1 } })).toBeUndefined();
    expect(parseVerifyReply({ isValid: false, invalidMessage: ['m'] })).toBeUndefined();
  });

  it("returns a new object, not the facilitator's", () => {
    const body = { isValid: true, payer: '0xabc', extra: 1 };
    const r = parseVerifyReply(body);
    expect(r).not.toBe(body);
    expect(Object.keys(r ?? {})).toEqual(['isValid', 'payer']);
  });
});

describe('parseSettleReply', () => {
  it('accepts a success with transaction and network', () => {
    expect(
      parseSettleReply({ success: true, transaction: '0x1', network: 'base', payer: '0xabc' }),
    ).toEqual({ success: true, transaction: '0x1', network: 'base', payer: '0xabc' });
  });

  it('defaults a missing transaction to the empty string', () => {
    const reply = { success: false, errorReason: 'invalid_transaction_state', network: 'base' };
    expect(parseSettleReply(reply)).toEqual({
      success: false,
      errorReason: 'invalid_transaction_state',
      transaction: '',
      network: 'base',
    });
  });

  it('rejects a reply without network or without a boolean success', () => {
    expect(parseSettleReply({ success: true, transaction: '0x1' })).toBeUndefined();
    expect(parseSettleReply({ transaction: '0x1', network: 'base' })).toBeUndefined();
    expect(
      parseSettleReply({ success: 'true', transaction: '0x1', network: 'base' }),
    ).toBeUndefined();
    expect(parseSettleReply({ success: true, transaction: '0x1', network: 8453 })).toBeUndefined();
    expect(parseSettleReply([])).toBeUndefined();
  });

  it('reads a null transaction as "" and null optional fields as absent', () => {
    const r = parseSettleReply({
      success: false,
      transaction: null,
      network: 'base',
      errorReason: null,
      payer: null,
    });
    expect(r).toEqual({ success: false, transaction: '', network: 'base' });
    expect(r && ('errorReason' in r || 'payer' in r)).toBe(false);
  });

  it('rejects a transaction or reason of the wrong type and drops unknown keys', () => {
    expect(parseSettleReply({ success: true, transaction: 1, network: 'base' })).toBeUndefined();
    expect(parseSettleReply({ success: false, errorReason: 7, network: 'base' })).toBeUndefined();
    expect(parseSettleReply({ success: false, errorMessage: {}, network: 'base' })).toBeUndefined();
    expect(
      parseSettleReply({
        success: false,
        errorReason: 'r',
        errorMessage: 'm',
        network: 'base',
        extra: true,
      }),
    ).toEqual({
      success: false,
      errorReason: 'r',
      errorMessage: 'm',
      transaction: '',
      network: 'base',
    });
  });
});

describe('parseSupportedReply', () => {
  it('keeps kinds with their extra and unknown top-level keys', () => {
    const body = {
      kinds: [{ x402Version: 2, scheme: 'exact', network: 'eip155:8453', extra: { a: 1 }, z: 2 }],
      extensions: ['bazaar'],
      signers: { 'eip155:*': ['0x1'] },
      other: true,
    };
    expect(parseSupportedReply(body)).toEqual(body);
  });

  it('rejects kinds without a numeric version', () => {
    expect(
      parseSupportedReply({ kinds: [{ x402Version: '1', scheme: 'exact', network: 'base' }] }),
    ).toBeUndefined();
    expect(parseSupportedReply({})).toBeUndefined();
  });
});
