import { describe, expect, it } from 'vitest';
import { selectOffer } from '../../../src/x402/select.js';
import type { PaymentPayloadV1, PaymentPayloadV2 } from '../../../src/x402/types.js';
import {
  BASE,
  BASE_SEPOLIA,
  jsonObject,
  makeOffer,
  OTHER_ADDRESS,
} from '../../helpers/x402-fixtures.js';

const sepolia = makeOffer({ network: BASE_SEPOLIA });
const base = makeOffer({ network: BASE, amount: 2500n });
const offers = [sepolia, base];

const exactPayload = {
  signature: `0x${'ab'.repeat(65)}`,
  authorization: {
    from: OTHER_ADDRESS,
    to: sepolia.payTo,
    value: '1000',
    validAfter: '0',
    validBefore: '9999999999',
    nonce: `0x${'cd'.repeat(32)}`,
  },
};

function v2(accepted: Record<string, unknown>): PaymentPayloadV2 {
  return { x402Version: 2, accepted, payload: exactPayload };
}

function v1(network: string, scheme = 'exact'): PaymentPayloadV1 {
  return { x402Version: 1, scheme, network, payload: exactPayload };
}

/** What a client echoes: a fresh JSON copy of the offered requirement. */
function echo(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...jsonObject(JSON.stringify(sepolia.requirementsV2)), ...overrides };
}

describe('selectOffer for v2 payloads', () => {
  it('finds the offer whose requirement the client echoed unchanged', () => {
    expect(selectOffer(v2(echo()), offers)).toBe(sepolia);
    expect(selectOffer(v2(jsonObject(JSON.stringify(base.requirementsV2))), offers)).toBe(base);
  });

  it('matches whatever the key order of the echo', () => {
    const e = echo();
    const reordered = Object.fromEntries(Object.entries(e).reverse());
    expect(selectOffer(v2(reordered), offers)).toBe(sepolia);
  });

  it('accepts an extra object that adds fields to ours', () => {
    const e = echo({ extra: { version: '2', name: 'USDC', assetTransferMethod: 'eip3009' } });
    expect(selectOffer(v2(e), offers)).toBe(sepolia);
  });

  it.each([
    ['a changed amount', { amount: '999' }],
    ['the amount as a number', { amount: 1000 }],
    ['a different payTo', { payTo: OTHER_ADDRESS }],
    ['a lower-cased payTo', { payTo: sepolia.payTo.toLowerCase() }],
    ['a changed maxTimeoutSeconds', { maxTimeoutSeconds: 121 }],
    ['maxTimeoutSeconds as a string', { maxTimeoutSeconds: '120' }],
    ['a different network', { network: 'eip155:8453' }],
    ['the v1 network name', { network: 'base-sepolia' }],
    ['a different asset', { asset: BASE.usdc?.address }],
    ['another scheme', { scheme: 'upto' }],
    ['a changed extra.name', { extra: { name: 'USD Coin', version: '2' } }],
    ['an extra missing version', { extra: { name: 'USDC' } }],
    ['no extra object', { extra: 'USDC' }],
    ['an added top-level key', { resource: 'https://x' }],
  ])('refuses an echo with %s', (_label, overrides) => {
    expect(selectOffer(v2(echo(overrides)), offers)).toBeUndefined();
  });

  it('refuses an echo that lacks a core field', () => {
    const e = echo();
    delete e.maxTimeoutSeconds;
    expect(selectOffer(v2(e), offers)).toBeUndefined();
  });

  it('finds nothing in an empty offer list', () => {
    expect(selectOffer(v2(echo()), [])).toBeUndefined();
  });
});

describe('selectOffer for v1 payloads', () => {
  it('picks the offer by v1 network name', () => {
    expect(selectOffer(v1('base-sepolia'), offers)).toBe(sepolia);
    expect(selectOffer(v1('base'), offers)).toBe(base);
  });

  it('refuses a CAIP-2 id, an unknown network and a non-exact scheme', () => {
    expect(selectOffer(v1('eip155:84532'), offers)).toBeUndefined();
    expect(selectOffer(v1('polygon'), offers)).toBeUndefined();
    expect(selectOffer(v1('base-sepolia', 'upto'), offers)).toBeUndefined();
  });
});
