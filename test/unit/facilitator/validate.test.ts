import { describe, expect, it } from 'vitest';
import { checkRequest, envelopeProblem, payerOf } from '../../../src/facilitator/validate.js';

const auth = {
  from: '0x2222222222222222222222222222222222222222',
  to: '0x1111111111111111111111111111111111111111',
  value: '1000',
  validAfter: '1767224400',
  validBefore: '1767225120',
  nonce: `0x${'9a'.repeat(32)}`,
};
const reqV2 = {
  scheme: 'exact',
  network: 'eip155:84532',
  amount: '1000',
  asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
  payTo: auth.to,
  maxTimeoutSeconds: 120,
  extra: { name: 'USDC', version: '2' },
};
const v2 = {
  x402Version: 2,
  paymentPayload: {
    x402Version: 2,
    accepted: reqV2,
    payload: { signature: `0x${'ab'.repeat(65)}`, authorization: auth },
  },
  paymentRequirements: reqV2,
};
const reqV1 = {
  scheme: 'exact',
  network: 'base-sepolia',
  maxAmountRequired: '1000',
  resource: 'https://x/y',
  description: '',
  mimeType: '',
  payTo: auth.to,
  maxTimeoutSeconds: 120,
  asset: reqV2.asset,
  extra: { name: 'USDC', version: '2' },
};
const v1 = {
  x402Version: 1,
  paymentPayload: {
    x402Version: 1,
    scheme: 'exact',
    network: 'base-sepolia',
    payload: v2.paymentPayload.payload,
  },
  paymentRequirements: reqV1,
};
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('facilitator request checks', () => {
  it('accept well-formed v1 and v2 requests and pass the original objects on', () => {
    const r2 = checkRequest(v2);
    expect(r2).toEqual({ ok: true, request: v2 });
    if (r2.ok) expect(r2.request).toBe(v2);
    expect(checkRequest(v1).ok).toBe(true);
    expect(payerOf(v2)).toBe(auth.from);
  });

  it('name the spec reason for each malformed part', () => {
    expect(checkRequest({ ...v2, x402Version: 3 })).toMatchObject({
      ok: false,
      reason: 'invalid_x402_version',
    });
    expect(
      checkRequest({ ...v2, paymentPayload: { ...v2.paymentPayload, x402Version: 1 } }),
    ).toMatchObject({ ok: false, reason: 'invalid_x402_version' });
    expect(checkRequest({ ...v2, paymentRequirements: { ...reqV2, amount: '' } })).toMatchObject({
      ok: false,
      reason: 'invalid_payment_requirements',
    });
    expect(
      checkRequest({
        ...v1,
        paymentRequirements: { ...reqV1, network: 'eip155:8453', maxAmountRequired: undefined },
      }),
    ).toMatchObject({
      ok: false,
      reason: 'invalid_payment_requirements',
    });
    for (const [field, bad] of [
      ['value', '1e3'],
      ['value', '-1'],
      ['from', '0x1234'],
      ['nonce', '0x12'],
      ['validBefore', 'soon'],
    ] as const) {
      const b = clone(v2);
      (b.paymentPayload.payload.authorization as Record<string, string>)[field] = bad;
      expect(checkRequest(b), `${field}=${bad}`).toMatchObject({
        ok: false,
        reason: 'invalid_payload',
      });
    }
    const noSig = clone(v2);
    (noSig.paymentPayload.payload as { signature?: string }).signature = undefined;
    expect(checkRequest(noSig)).toMatchObject({ ok: false, reason: 'invalid_payload' });
    const noAccepted = clone(v2) as { paymentPayload: { accepted?: unknown } };
    delete noAccepted.paymentPayload.accepted;
    expect(checkRequest(noAccepted)).toMatchObject({ ok: false, reason: 'invalid_payload' });
  });

  it('envelope problems are what the HTTP server answers 400 for', () => {
    expect(envelopeProblem(v2)).toBeUndefined();
    expect(envelopeProblem(null)).toBe('body must be a JSON object');
    expect(envelopeProblem([])).toBe('body must be a JSON object');
    expect(envelopeProblem({ x402Version: '2' })).toBe('x402Version must be 1 or 2');
    expect(envelopeProblem({ x402Version: 2, paymentPayload: 'x', paymentRequirements: {} })).toBe(
      'paymentPayload must be an object',
    );
    expect(envelopeProblem({ x402Version: 2, paymentPayload: {} })).toBe(
      'paymentRequirements must be an object',
    );
  });
});
