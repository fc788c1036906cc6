import { x402Client, x402HTTPClient } from '@x402/core/client';
import { describe, expect, it } from 'vitest';
import { PAYMENT_RESPONSE, X_PAYMENT_RESPONSE } from '../../../src/x402/headers.js';
import { encodeSettlementHeader } from '../../../src/x402/settlement.js';
import type { SettleResponse } from '../../../src/x402/types.js';
import { makeOffer, OTHER_ADDRESS } from '../../helpers/x402-fixtures.js';

const offer = makeOffer(); // Base Sepolia
const TX = `0x${'7c'.repeat(32)}`;

function decode(value: string): unknown {
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
}

const success: SettleResponse = {
  success: true,
  transaction: TX,
  network: 'whatever-the-facilitator-said',
  payer: OTHER_ADDRESS,
};

describe('encodeSettlementHeader', () => {
  it('answers a v2 payload with PAYMENT-RESPONSE and a CAIP-2 network', () => {
    const h = encodeSettlementHeader(2, success, offer);
    expect(h.name).toBe(PAYMENT_RESPONSE);
    expect(decode(h.value)).toEqual({
      success: true,
      transaction: TX,
      network: 'eip155:84532',
      payer: OTHER_ADDRESS,
    });
  });

  it('answers a v1 payload with X-PAYMENT-RESPONSE and the v1 network name', () => {
    const h = encodeSettlementHeader(1, success, offer);
    expect(h.name).toBe(X_PAYMENT_RESPONSE);
    expect(decode(h.value)).toEqual({
      success: true,
      transaction: TX,
      network: 'base-sepolia',
      payer: OTHER_ADDRESS,
    });
  });

  it('carries errorReason on failure but never errorMessage', () => {
    const failed: SettleResponse = {
      success: false,
      errorReason: 'invalid_exact_evm_nonce_already_used',
      errorMessage: 'internal detail',
      transaction: '',
      network: 'eip155:84532',
      payer: OTHER_ADDRESS,
    };
    expect(decode(encodeSettlementHeader(2, failed, offer).value)).toEqual({
      success: false,
      errorReason: 'invalid_exact_evm_nonce_already_used',
      transaction: '',
      network: 'eip155:84532',
      payer: OTHER_ADDRESS,
    });
  });

  it('gives a failure without a facilitator reason the settlement_failed reason', () => {
    const failed: SettleResponse = { success: false, transaction: '', network: '' };
    expect(decode(encodeSettlementHeader(1, failed, offer).value)).toMatchObject({
      success: false,
      errorReason: 'settlement_failed',
    });
  });

  it('is read back by the official client from either header name', () => {
    const http = new x402HTTPClient(new x402Client());
    for (const version of [1, 2] as const) {
      const h = encodeSettlementHeader(version, success, offer);
      const headers = new Headers({ [h.name]: h.value });
      expect(http.getPaymentSettleResponse((n) => headers.get(n))).toMatchObject({
        success: true,
        transaction: TX,
        payer: OTHER_ADDRESS,
      });
    }
  });
});
