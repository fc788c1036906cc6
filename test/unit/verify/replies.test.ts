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
