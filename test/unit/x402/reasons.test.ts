import { describe, expect, it } from 'vitest';
import { REASON } from '../../../src/x402/reasons.js';

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
    expect(REASON.invalidSignature).toBe('invalid_exact_evm_payload_signature');
    expect(REASON.settlementPending).toBe('settlement_pending');
  });
});
