import { describe, expect, it } from 'vitest';
import { precheck } from '../../../src/x402/precheck.js';
import type {
  ExactEvmAuthorization,
  PaymentPayloadV1,
  PaymentPayloadV2,
} from '../../../src/x402/types.js';
import { BASE, makeOffer, OTHER_ADDRESS } from '../../helpers/x402-fixtures.js';

const NOW = 1_767_225_000;
const MIN_REMAINING = 56;
const offer = makeOffer(); // Base Sepolia, 1000 atomic, maxTimeoutSeconds 120
const NONCE = `0x${'9a'.repeat(32)}`;

function auth(overrides: Partial<ExactEvmAuthorization> = {}): ExactEvmAuthorization {
  return {
    from: OTHER_ADDRESS,
    to: offer.payTo,
    value: '1000',
    validAfter: String(NOW - 600),
    validBefore: String(NOW + 120),
    nonce: NONCE,
    ...overrides,
  };
}

function v1(
  a: ExactEvmAuthorization = auth(),
  network = 'base-sepolia',
  scheme = 'exact',
): PaymentPayloadV1 {
  return {
    x402Version: 1,
    scheme,
    network,
    payload: { signature: `0x${'ab'.repeat(65)}`, authorization: a },
  };
}

function v2(
  a: ExactEvmAuthorization = auth(),
  accepted: Record<string, unknown> = { ...offer.requirementsV2 },
): PaymentPayloadV2 {
  return {
    x402Version: 2,
    accepted,
    payload: { signature: `0x${'ab'.repeat(65)}`, authorization: a },
  };
}

describe('precheck', () => {
  it('passes a payment that pays the offer exactly, and returns the typed authorization', () => {
    expect(precheck(v1(), offer, NOW, MIN_REMAINING)).toEqual({
      ok: true,
      from: OTHER_ADDRESS,
      value: 1000n,
      validBefore: NOW + 120,
      nonce: NONCE,
    });
    expect(precheck(v2(), offer, NOW, MIN_REMAINING)).toMatchObject({ ok: true, value: 1000n });
  });

  it('compares the recipient without regard to case', () => {
    const lower = auth({ to: offer.payTo.toLowerCase() });
    const upper = auth({ to: `0x${offer.payTo.slice(2).toUpperCase()}` });
    expect(precheck(v1(lower), offer, NOW, MIN_REMAINING).ok).toBe(true);
    expect(precheck(v2(upper), offer, NOW, MIN_REMAINING).ok).toBe(true);
  });

  it('refuses another recipient', () => {
    expect(precheck(v1(auth({ to: OTHER_ADDRESS })), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_exact_evm_payload_recipient_mismatch',
    });
  });

  it.each([
    ['one unit less', '999'],
    ['one unit more', '1001'],
    ['zero', '0'],
    ['far more', '1000000000000'],
  ])('refuses an amount of %s: it must equal the price exactly', (_label, value) => {
    expect(precheck(v2(auth({ value })), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_exact_evm_payload_authorization_value',
    });
  });

  it('accepts validAfter equal to now and refuses it one second later', () => {
    expect(precheck(v1(auth({ validAfter: String(NOW) })), offer, NOW, MIN_REMAINING).ok).toBe(
      true,
    );
    expect(precheck(v1(auth({ validAfter: String(NOW + 1) })), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_exact_evm_payload_authorization_valid_after',
    });
  });

  it('accepts exactly minRemainingSec left before validBefore and refuses one second less', () => {
    const edge = auth({ validBefore: String(NOW + MIN_REMAINING) });
    expect(precheck(v1(edge), offer, NOW, MIN_REMAINING).ok).toBe(true);
    const short = auth({ validBefore: String(NOW + MIN_REMAINING - 1) });
    expect(precheck(v1(short), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_exact_evm_payload_authorization_valid_before',
    });
  });

  it('refuses an expired authorization', () => {
    expect(precheck(v2(auth({ validBefore: String(NOW - 1) })), offer, NOW, 0)).toEqual({
      ok: false,
      reason: 'invalid_exact_evm_payload_authorization_valid_before',
    });
  });

  it('refuses a uint256-sized validBefore (too far ahead) without overflow', () => {
    const max = (2n ** 256n - 1n).toString();
    expect(precheck(v1(auth({ validBefore: max })), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_exact_evm_payload_authorization_valid_before',
    });
  });

  it('accepts validBefore up to maxTimeoutSeconds + 30 s of clock skew ahead, refuses one second more', () => {
    // Issue 13: payments signed years ahead filled the replay store; no record may outlive minutes.
    const edge = auth({ validBefore: String(NOW + offer.maxTimeoutSeconds + 30) });
    expect(precheck(v1(edge), offer, NOW, MIN_REMAINING).ok).toBe(true);
    expect(precheck(v2(edge), offer, NOW, MIN_REMAINING).ok).toBe(true);
    const far = auth({ validBefore: String(NOW + offer.maxTimeoutSeconds + 31) });
    for (const payload of [v1(far), v2(far)]) {
      expect(precheck(payload, offer, NOW, MIN_REMAINING)).toEqual({
        ok: false,
        reason: 'invalid_exact_evm_payload_authorization_valid_before',
      });
    }
    const tenYears = auth({ validBefore: String(NOW + 10 * 365 * 86_400) });
    expect(precheck(v2(tenYears), offer, NOW, MIN_REMAINING).ok).toBe(false);
  });

  it('refuses a v1 payload for another network or scheme', () => {
    expect(precheck(v1(auth(), 'base'), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_network',
    });
    expect(precheck(v1(auth(), 'base-sepolia', 'upto'), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_scheme',
    });
  });

  it('refuses a v2 payload whose accepted names another network, scheme or asset', () => {
    const req = offer.requirementsV2;
    expect(
      precheck(v2(auth(), { ...req, network: BASE.caip2 }), offer, NOW, MIN_REMAINING),
    ).toEqual({
      ok: false,
      reason: 'invalid_network',
    });
    expect(precheck(v2(auth(), { ...req, scheme: 'upto' }), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_scheme',
    });
    expect(
      precheck(v2(auth(), { ...req, asset: BASE.usdc?.address }), offer, NOW, MIN_REMAINING),
    ).toEqual({
      ok: false,
      reason: 'asset_mismatch',
    });
    expect(precheck(v2(auth(), { ...req, asset: undefined }), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'asset_mismatch',
    });
  });

  it('refuses a hand-built payload whose formats the decoder would have refused', () => {
    expect(precheck(v1(auth({ nonce: '0x1234' })), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_payment_header',
    });
    expect(precheck(v1(auth({ value: '-1000' })), offer, NOW, MIN_REMAINING)).toEqual({
      ok: false,
      reason: 'invalid_payment_header',
    });
  });
});
