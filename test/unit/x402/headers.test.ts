import { describe, expect, it } from 'vitest';
import {
  CORS_ALLOW_HEADERS,
  CORS_EXPOSE_HEADERS,
  HEADER,
  PAYMENT_REQUIRED,
  PAYMENT_RESPONSE,
  PAYMENT_SIGNATURE,
  X_PAYMENT,
  X_PAYMENT_RESPONSE,
} from '../../../src/x402/headers.js';

describe('headers', () => {
  it('are lower-case names as node exposes them', () => {
    expect([
      PAYMENT_SIGNATURE,
      X_PAYMENT,
      PAYMENT_REQUIRED,
      PAYMENT_RESPONSE,
      X_PAYMENT_RESPONSE,
    ]).toEqual([
      'payment-signature',
      'x-payment',
      'payment-required',
      'payment-response',
      'x-payment-response',
    ]);
    expect(HEADER).toEqual({
      paymentSignature: 'payment-signature',
      xPayment: 'x-payment',
      paymentRequired: 'payment-required',
      paymentResponse: 'payment-response',
      xPaymentResponse: 'x-payment-response',
    });
  });

  it('expose the challenge and both receipts to browsers', () => {
    expect(CORS_EXPOSE_HEADERS).toBe('PAYMENT-REQUIRED, PAYMENT-RESPONSE, X-PAYMENT-RESPONSE');
  });

  it('allow both payment headers and the expose header official clients send', () => {
    expect(CORS_ALLOW_HEADERS).toBe(
      'PAYMENT-SIGNATURE, X-PAYMENT, Access-Control-Expose-Headers, Content-Type',
    );
  });
});
