import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { rawRequest, decodeHeader } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';
import { encodePaymentHeader, tamperSignature, testAccount } from '../helpers/payments.js';
import type { PaymentPayloadV2 } from '../../src/x402/types.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** No facilitator and no upstream call happened during `fn`. */
async function expectNoIo(fn: () => Promise<void>): Promise<void> {
  const verify = h.facilitator.calls.verify;
  const settle = h.facilitator.calls.settle;
  const upstream = h.upstream.calls.length;
  await fn();
  expect(h.facilitator.calls.verify).toBe(verify);
  expect(h.facilitator.calls.settle).toBe(settle);
  expect(h.upstream.calls.length).toBe(upstream);
}

describe('undecodable payment headers', () => {
  it.each([
    ['not base64', '%%%not-base64%%%'],
    ['base64url', Buffer.from('{"x402Version":2}').toString('base64url')],
    ['not JSON', Buffer.from('hello').toString('base64')],
    ['schema-invalid', encodePaymentHeader({ x402Version: 2, payload: {} })],
    ['over maxPaymentHeaderBytes (8 KiB)', 'A'.repeat(10_000)],
  ])('%s → 400 invalid_payment_header, no I/O', async (_name, value) => {
    await expectNoIo(async () => {
      const res = await rawRequest(h.url, {
        path: '/v1/quote',
        headers: { 'payment-signature': value },
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'invalid_payment_header' });
    });
  });
});

describe('well-formed but unacceptable payments → 402 challenge with the reason, no I/O', () => {
  it('unknown x402Version', async () => {
    await expectNoIo(async () => {
      const res = await rawRequest(h.url, {
        path: '/v1/quote',
        headers: {
          'payment-signature': encodePaymentHeader({ x402Version: 3, accepted: {}, payload: {} }),
        },
      });
      expect(res.status).toBe(402);
      expect(decodeHeader(res.headers['payment-required']).error).toBe('invalid_x402_version');
    });
  });

  it('wrong network (v1 payload for another chain)', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 1 });
    const payload = { ...(payment.payload as object), network: 'base' };
    await expectNoIo(async () => {
      const res = await rawRequest(h.url, {
        path: '/v1/quote',
        headers: { 'x-payment': encodePaymentHeader(payload) },
      });
      expect(res.status).toBe(402);
      expect(JSON.parse(res.body)).toMatchObject({
        x402Version: 1,
        error: 'no_matching_requirements',
      });
    });
  });

  it('v2 accepted that differs from every offer (a cheaper amount)', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    const p = payment.payload as PaymentPayloadV2;
    const forged = { ...p, accepted: { ...p.accepted, amount: '1' } };
    await expectNoIo(async () => {
      const res = await rawRequest(h.url, {
        path: '/v1/quote',
        headers: { 'payment-signature': encodePaymentHeader(forged) },
      });
      expect(res.status).toBe(402);
      expect(decodeHeader(res.headers['payment-required']).error).toBe('no_matching_requirements');
    });
  });

  it.each([
    [
      'wrong recipient',
      { to: '0x2222222222222222222222222222222222222222' },
      'invalid_exact_evm_payload_recipient_mismatch',
    ],
    ['underpayment', { value: 999n }, 'invalid_exact_evm_payload_authorization_value'],
    ['overpayment', { value: 1001n }, 'invalid_exact_evm_payload_authorization_value'],
    [
      'expired authorization',
      { validBefore: Math.floor(Date.now() / 1000) - 1 },
      'invalid_exact_evm_payload_authorization_valid_before',
    ],
    [
      'too little time left to forward and settle',
      { validBefore: Math.floor(Date.now() / 1000) + 5 },
      'invalid_exact_evm_payload_authorization_valid_before',
    ],
    [
      'not yet valid',
      { validAfter: Math.floor(Date.now() / 1000) + 3600 },
      'invalid_exact_evm_payload_authorization_valid_after',
    ],
  ] as const)('%s', async (_name, overrides, reason) => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2, ...overrides });
    await expectNoIo(async () => {
      const res = await payWith(h.url, '/v1/quote', payment);
      expect(res.status).toBe(402);
      expect(decodeHeader(res.headers['payment-required']).error).toBe(reason);
      expect(JSON.parse(res.body)).toMatchObject({ x402Version: 1, reason });
    });
  });
});

describe('verify says invalid', () => {
  it('a tampered signature gets 402 with the facilitator reason; a repeat is shed by the negative cache', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2, account: testAccount(2) });
    const tampered = tamperSignature(payment.payload as PaymentPayloadV2);
    const header = { 'payment-signature': encodePaymentHeader(tampered) };
    const upstream = h.upstream.calls.length;
    const verifies = h.facilitator.calls.verify;
    const first = await rawRequest(h.url, { path: '/v1/quote', headers: header });
    expect(first.status).toBe(402);
    expect(decodeHeader(first.headers['payment-required']).error).toBe(
      'invalid_exact_evm_payload_signature',
    );
    expect(h.facilitator.calls.verify).toBe(verifies + 1);
    const second = await rawRequest(h.url, { path: '/v1/quote', headers: header });
    expect(second.status).toBe(402);
    expect(h.facilitator.calls.verify).toBe(verifies + 1);
    expect(h.upstream.calls.length).toBe(upstream);
  });

  it('a payer without funds is refused with the reason and nothing moves', async () => {
    const poor = testAccount(3);
    h.facilitator.setBalance(poor.address, 0n);
    const payment = await signFor(h.url, '/v1/quote', { version: 2, account: poor });
    const transfers = h.facilitator.transfers.length;
    const upstream = h.upstream.calls.length;
    const res = await payWith(h.url, '/v1/quote', payment);
    expect(res.status).toBe(402);
    expect(decodeHeader(res.headers['payment-required']).error).toBe(
      'invalid_exact_evm_insufficient_balance',
    );
    expect(h.facilitator.transfers.length).toBe(transfers);
    expect(h.upstream.calls.length).toBe(upstream);
  });
});
