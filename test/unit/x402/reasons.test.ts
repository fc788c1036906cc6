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
import { REASON, knownMetricReasons, metricReason } from '../../../src/x402/reasons.js';

describe('reasons', () => {
  it('are all snake_case and distinct', () => {
    const values = Object.values(REASON);
    for (const v of values) expect(v).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(new Set(values).size).toBe(values.length);
  });

  it('use the spec codes for the checks the spec names', () => {
    expect(REASON.recipientMismatch).toBe('invalid_exact_evm_payload_recipient_mismatch');
    expect(REASON.authorizationValue).toBe('invalid_exact_evm_payload_authorization_value');
    expect(REASON.authorizationValidAfter).toBe(
      'invalid_exact_evm_payload_authorization_valid_after',
    );
    expect(REASON.authorizationValidBefore).toBe(
      'invalid_exact_evm_payload_authorization_valid_before',
    );
    expect(REASON.invalidX402Version).toBe('invalid_x402_version');
    expect(REASON.settlementPending).toBe('settlement_pending');
  });
});

describe('metricReason', () => {
  it('keeps every gateway reason as its own label', () => {
    for (const v of Object.values(REASON)) expect(metricReason(v)).toBe(v);
  });

  it('keeps common facilitator reasons as their own labels', () => {
    for (const r of [
      'invalid_exact_evm_nonce_already_used',
      'invalid_exact_evm_insufficient_balance',
      'invalid_exact_evm_recipient_mismatch',
      'insufficient_funds',
      'invalid_exact_evm_payload_signature',
      'unexpected_settle_error',
      'invalid_exact_evm_payload_authorization_value_too_low',
      'before_settle_hook_error',
    ]) {
      expect(metricReason(r)).toBe(r);
    }
  });

  it('folds unknown, attacker-chosen or oversized strings into other', () => {
    expect(metricReason('made_up_reason')).toBe('other');
    expect(metricReason('')).toBe('other');
    expect(metricReason('Invalid_Payment_Header')).toBe('other');
    expect(metricReason('x'.repeat(10_000))).toBe('other');
  });

  it('lists a bounded label set that includes other', () => {
    const labels = knownMetricReasons();
    expect(labels).toContain('other');
    expect(labels).toContain('payment_required');
    expect(labels.length).toBeLessThan(100);
  });
});

describe('headers', () => {
  it('are lower-case names as node exposes them', () => {
    expect([PAYMENT_SIGNATURE, X_PAYMENT, PAYMENT_REQUIRED, PAYMENT_RESPONSE, X_PAYMENT_RESPONSE]).toEqual([
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
