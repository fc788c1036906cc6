import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/config/index.js';
import type { RequestContext } from '../../../src/pipeline/context.js';
import type { Deps } from '../../../src/pipeline/deps.js';
import {
  countClientFailure,
  countPayerDecline,
  countPayerRefusal,
} from '../../../src/pipeline/rate-limited.js';
import { RateLimits } from '../../../src/pipeline/rate-limits.js';
import { LocalSignatureCheck } from '../../../src/verify/local-check.js';
import {
  eip3009Domain,
  randomNonce,
  signTransferWithAuthorization,
} from '../../helpers/eip3009.js';
import { testAccount, TEST_PAY_TO } from '../../helpers/payments.js';

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';

/** The parts of a request the payer counting reads: its offer, payload and payer. */
async function request(signer = testAccount(0), from = signer.address): Promise<RequestContext> {
  const s = await signTransferWithAuthorization(signer, eip3009Domain('USDC', '2', 84532, USDC), {
    from: signer.address,
    to: TEST_PAY_TO,
    value: 1000n,
    validAfter: 0n,
    validBefore: 1_900_000_000n,
    nonce: randomNonce(),
  });
  return {
    payer: from,
    offer: {
      network: { caip2: 'eip155:84532', chainId: 84532 },
      asset: { address: USDC },
      requirementsV2: { extra: { name: 'USDC', version: '2' } },
    },
    payload: { payload: { signature: s.signature, authorization: { ...s.authorization, from } } },
  } as unknown as RequestContext;
}

function deps(): Deps & { rateLimits: RateLimits } {
  return {
    rateLimits: new RateLimits({
      ...DEFAULTS.rateLimits,
      failuresPerMinute: { perClient: 100, perPayer: 1 },
    }),
    signatureCheck: new LocalSignatureCheck({ config: DEFAULTS.signatureCheck, chains: new Map() }),
  } as unknown as Deps & { rateLimits: RateLimits };
}

const funds = { isValid: false, invalidReason: 'invalid_exact_evm_insufficient_balance' };

describe('countPayerRefusal', () => {
  it("counts a funds refusal of the payer's own signature", async () => {
    const d = deps();
    const ctx = await request();
    countPayerRefusal(ctx, d, funds);
    expect(d.rateLimits.payerWait(ctx.payer!)).toBeGreaterThan(0);
  });

  it('never counts one whose signature is not by `from` (a forged address)', async () => {
    const d = deps();
    const victim = testAccount(1).address;
    const ctx = await request(testAccount(0), victim);
    countPayerRefusal(ctx, d, funds);
    expect(d.rateLimits.payerWait(victim)).toBe(0);
    expect(d.rateLimits.tracked('payer_failures')).toBe(0);
  });

  it('never counts a replayable refusal (nonce used, expired) even when signed by `from`', async () => {
    const d = deps();
    const ctx = await request();
    for (const invalidReason of [
      'invalid_exact_evm_nonce_already_used',
      'invalid_exact_evm_payload_authorization_valid_before',
      'invalid_exact_evm_payload_signature',
    ]) {
      countPayerRefusal(ctx, d, { isValid: false, invalidReason });
    }
    expect(d.rateLimits.payerWait(ctx.payer!)).toBe(0);
  });
});

describe('countPayerDecline', () => {
  it("counts a settlement declined for the payer's funds, or failed on chain; not one for our network", async () => {
    const d = deps();
    const ctx = await request();
    countPayerDecline(ctx, d, 'invalid_network');
    countPayerDecline(ctx, d, 'invalid_transaction_state');
    expect(d.rateLimits.payerWait(ctx.payer!)).toBe(0);
    countPayerDecline(ctx, d, 'insufficient_funds');
    expect(d.rateLimits.payerWait(ctx.payer!)).toBeGreaterThan(0);
    const other = await request(testAccount(2));
    countPayerDecline(other, d, undefined);
    expect(d.rateLimits.payerWait(other.payer!)).toBeGreaterThan(0);
  });
});

describe('countClientFailure', () => {
  const attempt = (outcome: string, reason?: string, more: object = {}): RequestContext =>
    ({
      headerValue: 'x',
      clientKey: '192.0.2.1',
      outcome,
      reason,
      ...more,
    }) as unknown as RequestContext;

  it('counts refused, replayed, malformed and declined payments; nothing else', () => {
    const d = deps();
    for (const outcome of [
      'paid',
      'challenge',
      'facilitator_unavailable',
      'settlement_pending',
      'upstream_error',
      'rate_limited',
      'ledger_unavailable',
    ]) {
      countClientFailure(attempt(outcome), d);
    }
    // A body too large or stalled is not a payment that failed.
    countClientFailure(attempt('bad_request', 'payload_too_large'), d);
    countClientFailure(attempt('bad_request', 'body_timeout'), d);
    // A retry the book answered, and a request without a payment.
    countClientFailure(attempt('replay', undefined, { recalled: {} }), d);
    countClientFailure(attempt('rejected', undefined, { headerValue: undefined }), d);
    expect(d.rateLimits.tracked('client_failures')).toBe(0);
    for (const outcome of ['rejected', 'replay', 'bad_request', 'settlement_failed']) {
      countClientFailure(attempt(outcome, 'some_reason'), d);
    }
    expect(Math.floor(d.rateLimits.tokens('client_failures', '192.0.2.1'))).toBe(96);
  });
});
