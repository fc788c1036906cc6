/**
 * The money rules of a settle answer: only a listed pre-broadcast refusal on a non-5xx answer
 * without a transaction hash is `declined`; a success needs a hash; everything else is `unknown`.
 * A refusal of a resumed settlement is never read as payment.
 */
import { describe, expect, it } from 'vitest';
import {
  classifySettlement,
  reconcileResumed,
  type SettleOutcome,
} from '../../../src/settle/outcome.js';
import { PRE_BROADCAST_REFUSALS } from '../../../src/settle/declines.js';
import type { FacilitatorResult } from '../../../src/verify/types.js';
import type { SettleResponse } from '../../../src/x402/types.js';

const TX = `0x${'ab'.repeat(32)}`;
const NET = 'eip155:84532';

function ok(status: number, response: Partial<SettleResponse>): FacilitatorResult<SettleResponse> {
  return {
    kind: 'ok',
    status,
    value: { success: false, transaction: '', network: NET, ...response },
  };
}

const cases: Array<[string, FacilitatorResult<SettleResponse>, SettleOutcome['kind'], boolean?]> = [
  ['success with a hash', ok(200, { success: true, transaction: TX }), 'success'],
  ['success without a hash', ok(200, { success: true, transaction: '' }), 'unknown'],
  ['insufficient funds, 200', ok(200, { errorReason: 'insufficient_funds' }), 'declined'],
  [
    'bad signature, 400',
    ok(400, { errorReason: 'invalid_exact_evm_payload_signature' }),
    'declined',
  ],
  [
    'valid_before passed',
    ok(200, { errorReason: 'invalid_exact_evm_payload_authorization_valid_before' }),
    'declined',
  ],
  ['unsupported scheme', ok(200, { errorReason: 'unsupported_scheme' }), 'declined'],
  ['a listed refusal with HTTP 500', ok(500, { errorReason: 'insufficient_funds' }), 'unknown'],
  [
    'a listed refusal that carries a hash',
    ok(200, { errorReason: 'insufficient_funds', transaction: TX }),
    'unknown',
  ],
  [
    'nonce already used',
    ok(200, { errorReason: 'invalid_exact_evm_nonce_already_used' }),
    'unknown',
  ],
  [
    'transaction failed',
    ok(200, { errorReason: 'invalid_exact_evm_transaction_failed' }),
    'unknown',
  ],
  ['invalid transaction state', ok(200, { errorReason: 'invalid_transaction_state' }), 'unknown'],
  [
    'a free-text v1 reason',
    ok(200, { errorReason: 'Timed out while waiting for transaction' }),
    'unknown',
  ],
  ['no reason at all', ok(200, {}), 'unknown'],
  [
    'settlement_pending with HTTP 500',
    ok(500, { errorReason: 'settlement_pending', transaction: TX }),
    'unknown',
    true,
  ],
  ['a timeout', { kind: 'unavailable', failure: 'timeout', detail: 'late' }, 'unknown'],
  [
    'garbage',
    { kind: 'unavailable', failure: 'bad_response', detail: '<html>', status: 200 },
    'unknown',
  ],
  [
    'a 502 without a body',
    { kind: 'unavailable', failure: 'http_error', detail: 'bad gateway', status: 502 },
    'unknown',
  ],
];

describe('classifySettlement', () => {
  it.each(cases)('%s → %s', (_what, result, kind, saidPending = false) => {
    const outcome = classifySettlement(result);
    expect(outcome.kind).toBe(kind);
    if (outcome.kind === 'unknown') {
      expect(outcome.reason).toBe('settlement_pending');
      expect(outcome.saidPending).toBe(saidPending);
    }
  });

  it('keeps the hash of an unknown outcome that had one', () => {
    const outcome = classifySettlement(
      ok(502, { errorReason: 'insufficient_funds', transaction: TX }),
    );
    expect(outcome).toMatchObject({ kind: 'unknown', transaction: TX });
  });

  it('declines for every listed refusal, and only on a non-5xx answer without a hash', () => {
    for (const reason of PRE_BROADCAST_REFUSALS) {
      expect(classifySettlement(ok(200, { errorReason: reason })).kind).toBe('declined');
      expect(classifySettlement(ok(503, { errorReason: reason })).kind).toBe('unknown');
    }
  });
});

describe('reconcileResumed', () => {
  const declined = classifySettlement(ok(200, { errorReason: 'insufficient_funds' }));
  const nonceUsed: SettleOutcome = {
    kind: 'declined',
    reason: 'invalid_exact_evm_nonce_already_used',
    response: {
      success: false,
      errorReason: 'invalid_exact_evm_nonce_already_used',
      transaction: '',
      network: NET,
    },
  };

  it('never reads "nonce already used" as payment, even with the earlier hash known', () => {
    expect(reconcileResumed(nonceUsed, TX)).toMatchObject({ kind: 'unknown', transaction: TX });
  });

  it('keeps any refusal of a resumed settlement unknown: never a fresh 402', () => {
    expect(reconcileResumed(declined, undefined)).toMatchObject({
      kind: 'unknown',
      reason: 'settlement_pending',
    });
  });

  it('accepts a success, and keeps an unknown unknown with the earlier hash', () => {
    const success = classifySettlement(ok(200, { success: true, transaction: TX }));
    expect(reconcileResumed(success, TX)).toBe(success);
    const unknown = classifySettlement({ kind: 'unavailable', failure: 'timeout', detail: 'late' });
    expect(reconcileResumed(unknown, TX)).toMatchObject({ kind: 'unknown', transaction: TX });
    expect(reconcileResumed(unknown, undefined)).toBe(unknown);
  });
});
