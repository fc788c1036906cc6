import { describe, expect, it } from 'vitest';
import { createReasonLabels } from '../../../src/metrics/reason-labels.js';

const OURS = ['payment_required', 'payment_already_used', 'overloaded'];
const labels = createReasonLabels(OURS);

describe('reason labels', () => {
  it('keeps every reason of ours as its own label', () => {
    for (const v of OURS) expect(labels.label(v)).toBe(v);
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
      expect(labels.label(r)).toBe(r);
    }
  });

  it('folds unknown, attacker-chosen or oversized strings into other', () => {
    expect(labels.label('made_up_reason')).toBe('other');
    expect(labels.label('')).toBe('other');
    expect(labels.label('Invalid_Payment_Header')).toBe('other');
    expect(labels.label('x'.repeat(10_000))).toBe('other');
  });

  it('lists a bounded label set that includes other and ours', () => {
    const all = labels.all();
    expect(all).toContain('other');
    expect(all).toContain('payment_required');
    expect(all.length).toBeLessThan(100);
  });
});
