import { describe, expect, it } from 'vitest';
import { GATEWAY_REASON, REASON_LABELS } from '../../../src/pipeline/reasons.js';
import { REASON } from '../../../src/x402/reasons.js';

describe('gateway reasons', () => {
  it('are snake_case, distinct, and never equal to a payment reason', () => {
    const ours = Object.values(GATEWAY_REASON);
    for (const v of ours) expect(v).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(new Set(ours).size).toBe(ours.length);
    const payment = new Set<string>(Object.values(REASON));
    for (const v of ours) expect(payment.has(v)).toBe(false);
  });

  it('every payment and gateway reason is its own metric label', () => {
    for (const v of [...Object.values(REASON), ...Object.values(GATEWAY_REASON)]) {
      expect(REASON_LABELS.label(v)).toBe(v);
    }
    expect(REASON_LABELS.label('made_up_reason')).toBe('other');
  });
});
