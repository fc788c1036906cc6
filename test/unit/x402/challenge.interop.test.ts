/**
 * End-to-end wire interop with the official SDK: our challenge → official client parses it and
 * signs a real EIP-3009 payment (@x402/core + @x402/evm, viem signer) → official encoder → our
 * decoder, offer selection and precheck accept it, and the signature verifies against the EIP-712
 * domain our offer advertises.
 */
import { x402Client, x402HTTPClient } from '@x402/core/client';
import type { PaymentRequired } from '@x402/core/types';
import { authorizationTypes } from '@x402/evm';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/client';
import { isHex, verifyTypedData } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import type { PricedRoute } from '../../../src/pricing/types.js';
import type { Offer } from '../../../src/x402/types.js';
import { createChallenge } from '../../../src/x402/challenge.js';
import { decodePaymentHeader } from '../../../src/x402/codec.js';
import { PAYMENT_REQUIRED } from '../../../src/x402/headers.js';
import { precheck } from '../../../src/x402/precheck.js';
import { facilitatorRequest } from '../../../src/x402/requirements.js';
import { selectOffer } from '../../../src/x402/select.js';
import type { ExactEvmPayload } from '../../../src/x402/types.js';
import {
  acceptsOf,
  BASE,
  BASE_SEPOLIA,
  jsonObject,
  makeOffer,
  makeRoute,
} from '../../helpers/x402-fixtures.js';

const URL_ = 'https://gw.example.com/v1/quote?sym=ETH';
const MAX_HEADER_BYTES = 8192;
/** e.g. upstream 30 s + settle 20 s + 6 s block buffer: well inside the 120 s the client signs. */
const MIN_REMAINING_SEC = 56;

const account = privateKeyToAccount(generatePrivateKey());

function officialHttpClient(): x402HTTPClient {
  const client = new x402Client()
    .register('eip155:*', new ExactEvmScheme(account))
    .registerV1('base-sepolia', new ExactEvmSchemeV1(account))
    .registerV1('base', new ExactEvmSchemeV1(account));
  return new x402HTTPClient(client);
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

async function signatureMatchesOffer(offer: Offer, p: ExactEvmPayload): Promise<boolean> {
  const a = p.authorization;
  const { nonce } = a;
  const { signature } = p;
  if (!isHex(nonce) || !isHex(signature)) return false;
  return verifyTypedData({
    address: account.address,
    domain: {
      name: offer.asset.name,
      version: offer.asset.version,
      chainId: offer.network.chainId,
      verifyingContract: offer.asset.address,
    },
    types: authorizationTypes,
    primaryType: 'TransferWithAuthorization',
    message: {
      from: account.address,
      to: offer.payTo,
      value: offer.amount,
      validAfter: BigInt(a.validAfter),
      validBefore: BigInt(a.validBefore),
      nonce,
    },
    signature,
  });
}

/** The challenge of a test route, built the way the composition root builds it. */
function challengeOf(route: PricedRoute) {
  return createChallenge(route.resource, route.offers);
}

describe('a payment created by the official client for our challenge', () => {
  const sepolia = makeOffer({ network: BASE_SEPOLIA });
  const base = makeOffer({ network: BASE, amount: 2500n });
  const route = makeRoute({ offers: [sepolia, base] });
  const rendered = challengeOf(route).render(URL_, undefined);
  const responseHeaders = new Headers({ [PAYMENT_REQUIRED]: rendered.headerValue });
  const body = jsonObject(rendered.body);

  it('v2: PAYMENT-SIGNATURE decodes, selects the offer, passes precheck and verifies', async () => {
    const http = officialHttpClient();
    const required = http.getPaymentRequiredResponse((n) => responseHeaders.get(n), body);
    expect(required.x402Version).toBe(2);
    const payment = await http.createPaymentPayload(required);
    const sent = http.encodePaymentSignatureHeader(payment);
    const value = sent['PAYMENT-SIGNATURE'];
    if (value === undefined) throw new Error(`client sent ${Object.keys(sent).join(',')}`);

    const decoded = decodePaymentHeader(value, MAX_HEADER_BYTES);
    if (!decoded.ok) throw new Error(`${decoded.reason}: ${decoded.detail}`);
    expect(decoded.payload.x402Version).toBe(2);
    expect(decoded.raw).toEqual(JSON.parse(JSON.stringify(payment)));

    const offer = selectOffer(decoded.payload, route.offers);
    expect(offer).toBe(sepolia);
    if (offer === undefined) return;

    const checked = precheck(decoded.payload, offer, nowSec(), MIN_REMAINING_SEC);
    if (!checked.ok) throw new Error(checked.reason);
    expect(checked.from).toBe(account.address);
    expect(checked.value).toBe(1000n);
    expect(await signatureMatchesOffer(offer, decoded.payload.payload)).toBe(true);

    const request = facilitatorRequest(
      decoded.payload,
      decoded.raw,
      offer,
      route.resource,
      () => URL_,
    );
    expect(request).toEqual({
      x402Version: 2,
      paymentPayload: decoded.raw,
      paymentRequirements: sepolia.requirementsV2,
    });
  });

  it('v2: the second offer is selected when the client picks it', async () => {
    const picky = new x402HTTPClient(
      new x402Client(
        (_v, reqs) => reqs.find((r) => r.network === 'eip155:8453') ?? reqs[0]!,
      ).register('eip155:*', new ExactEvmScheme(account)),
    );
    const required = picky.getPaymentRequiredResponse((n) => responseHeaders.get(n), body);
    const payment = await picky.createPaymentPayload(required);
    const decoded = decodePaymentHeader(
      picky.encodePaymentSignatureHeader(payment)['PAYMENT-SIGNATURE'] ?? '',
      MAX_HEADER_BYTES,
    );
    if (!decoded.ok) throw new Error(decoded.detail);
    const offer = selectOffer(decoded.payload, route.offers);
    expect(offer).toBe(base);
    expect(precheck(decoded.payload, base, nowSec(), MIN_REMAINING_SEC)).toMatchObject({
      ok: true,
      value: 2500n,
    });
    expect(await signatureMatchesOffer(base, decoded.payload.payload)).toBe(true);
  });

  it('v1: X-PAYMENT for the v1 body decodes, selects the offer, passes precheck and verifies', async () => {
    const http = officialHttpClient();
    const required: PaymentRequired = http.getPaymentRequiredResponse(() => null, body);
    expect(required.x402Version).toBe(1);
    const payment = await http.createPaymentPayload(required);
    const sent = http.encodePaymentSignatureHeader(payment);
    const value = sent['X-PAYMENT'];
    if (value === undefined) throw new Error(`client sent ${Object.keys(sent).join(',')}`);

    const decoded = decodePaymentHeader(value, MAX_HEADER_BYTES);
    if (!decoded.ok) throw new Error(`${decoded.reason}: ${decoded.detail}`);
    expect(decoded.payload).toMatchObject({
      x402Version: 1,
      scheme: 'exact',
      network: 'base-sepolia',
    });

    const offer = selectOffer(decoded.payload, route.offers);
    expect(offer).toBe(sepolia);
    if (offer === undefined) return;
    const checked = precheck(decoded.payload, offer, nowSec(), MIN_REMAINING_SEC);
    if (!checked.ok) throw new Error(checked.reason);
    expect(checked.from).toBe(account.address);
    expect(await signatureMatchesOffer(offer, decoded.payload.payload)).toBe(true);

    // The facilitator gets our own v1 requirement: the one the client read from the body.
    const request = facilitatorRequest(
      decoded.payload,
      decoded.raw,
      offer,
      route.resource,
      () => URL_,
    );
    const v1Accepts = acceptsOf(rendered.body);
    expect(request).toEqual({
      x402Version: 1,
      paymentPayload: decoded.raw,
      paymentRequirements: v1Accepts[0],
    });

    // The requirement object is shared while the resource URL stays the same, rebuilt when it changes.
    const again = facilitatorRequest(
      decoded.payload,
      decoded.raw,
      offer,
      route.resource,
      () => URL_,
    );
    expect(again.paymentRequirements).toBe(request.paymentRequirements);
    const elsewhere = facilitatorRequest(
      decoded.payload,
      decoded.raw,
      offer,
      route.resource,
      () => `${URL_}?other`,
    );
    expect(elsewhere.paymentRequirements).not.toBe(request.paymentRequirements);
    expect(elsewhere.paymentRequirements).toMatchObject({ resource: `${URL_}?other` });
    expect(Object.isFrozen(elsewhere.paymentRequirements)).toBe(true);
  });

  it('v1: the client signs maxTimeoutSeconds of validity, so a longer required margin is refused', async () => {
    const http = officialHttpClient();
    const payment = await http.createPaymentPayload(
      http.getPaymentRequiredResponse(() => null, body),
    );
    const decoded = decodePaymentHeader(
      http.encodePaymentSignatureHeader(payment)['X-PAYMENT'] ?? '',
      MAX_HEADER_BYTES,
    );
    if (!decoded.ok) throw new Error(decoded.detail);
    expect(precheck(decoded.payload, sepolia, nowSec(), sepolia.maxTimeoutSeconds + 5)).toEqual({
      ok: false,
      reason: 'invalid_exact_evm_payload_authorization_valid_before',
    });
  });
});
