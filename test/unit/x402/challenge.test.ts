import { x402Client, x402HTTPClient } from '@x402/core/client';
import { PaymentRequiredV1Schema, PaymentRequiredV2Schema } from '@x402/core/schemas';
import { describe, expect, it } from 'vitest';
import {
  createChallenge,
  DEFAULT_V1_ERROR,
  DEFAULT_V2_ERROR,
  v1Requirements,
} from '../../../src/x402/challenge.js';
import type { PricedRoute } from '../../../src/pricing/types.js';
import { PAYMENT_REQUIRED } from '../../../src/x402/headers.js';
import { REASON } from '../../../src/x402/reasons.js';
import {
  acceptsOf,
  base64Text,
  BASE,
  BASE_SEPOLIA,
  jsonObject,
  makeOffer,
  makeRoute,
  PAY_TO,
} from '../../helpers/x402-fixtures.js';

const URL_ = 'https://gw.example.com/v1/quote?sym=ETH';

function decodeHeader(value: string): Record<string, unknown> {
  return jsonObject(base64Text(value));
}

function officialClient(): x402HTTPClient {
  return new x402HTTPClient(new x402Client());
}

/** The challenge of a test route, built the way the composition root builds it. */
function challengeOf(route: PricedRoute) {
  return createChallenge(route.resource, route.offers);
}

describe('createChallenge', () => {
  const offer = makeOffer();
  const route = makeRoute({ offers: [offer] });
  const challenge = challengeOf(route);

  it('renders the v2 PaymentRequired header byte-for-byte as JSON.stringify of the document', () => {
    const { headerValue } = challenge.render(URL_, undefined);
    const expected = {
      x402Version: 2,
      error: DEFAULT_V2_ERROR,
      resource: { url: URL_, description: 'Quote API', mimeType: 'application/json' },
      accepts: [offer.requirementsV2],
    };
    expect(base64Text(headerValue)).toBe(JSON.stringify(expected));
    expect(headerValue).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
  });

  it('renders the v1 body with the requirement fields x402-express sends', () => {
    const { body } = challenge.render(URL_, undefined);
    const expected = {
      x402Version: 1,
      error: DEFAULT_V1_ERROR,
      accepts: [
        {
          scheme: 'exact',
          network: 'base-sepolia',
          maxAmountRequired: '1000',
          resource: URL_,
          description: 'Quote API',
          mimeType: 'application/json',
          outputSchema: {
            input: { type: 'http', method: 'GET', discoverable: true },
            output: null,
          },
          payTo: PAY_TO,
          maxTimeoutSeconds: 120,
          asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
          extra: { name: 'USDC', version: '2' },
        },
      ],
    };
    expect(body).toBe(JSON.stringify(expected));
  });

  it('puts a reason in error of both forms and also in reason of the v1 body', () => {
    const { headerValue, body } = challenge.render(URL_, REASON.noMatchingRequirements);
    expect(decodeHeader(headerValue)).toMatchObject({ error: 'no_matching_requirements' });
    const parsed = jsonObject(body);
    expect(parsed).toMatchObject({
      x402Version: 1,
      error: 'no_matching_requirements',
      reason: 'no_matching_requirements',
    });
  });

  it('carries a facilitator reason the same way', () => {
    const { body } = challenge.render(URL_, 'invalid_exact_evm_nonce_already_used');
    expect(jsonObject(body)).toMatchObject({ reason: 'invalid_exact_evm_nonce_already_used' });
  });

  it('leaves reason out of the v1 body when error is a sentence, not a code', () => {
    const { body } = challenge.render(URL_, 'Something went wrong');
    const parsed = jsonObject(body);
    expect(parsed).toMatchObject({ error: 'Something went wrong' });
    expect(parsed).not.toHaveProperty('reason');
  });

  it('leaves reason out of the plain challenge', () => {
    expect(jsonObject(challenge.render(URL_, undefined).body)).not.toHaveProperty('reason');
  });

  it('escapes hostile characters in the URL and error so both stay valid JSON', () => {
    const nasty = 'https://gw.example.com/a"b\\c\u2028</script>\u0000?x=é';
    const err = 'quote " and \\ backslash';
    const { headerValue, body } = challenge.render(nasty, err);
    expect(decodeHeader(headerValue)).toMatchObject({ error: err, resource: { url: nasty } });
    expect(acceptsOf(body)[0]?.resource).toBe(nasty);
  });

  it('lists every offer in the same order in both forms', () => {
    const a = makeOffer({ network: BASE_SEPOLIA });
    const b = makeOffer({ network: BASE, amount: 2500n });
    const multi = challengeOf(makeRoute({ offers: [a, b] })).render(URL_, undefined);
    expect(acceptsOf(base64Text(multi.headerValue))).toEqual([a.requirementsV2, b.requirementsV2]);
    const v1 = acceptsOf(multi.body);
    expect(v1.map((r) => [r.network, r.maxAmountRequired, r.resource])).toEqual([
      ['base-sepolia', '1000', URL_],
      ['base', '2500', URL_],
    ]);
  });

  it('omits outputSchema when the route accepts any method', () => {
    const anyMethod = challengeOf(makeRoute({ method: null })).render(URL_, undefined);
    const v1 = acceptsOf(anyMethod.body);
    expect(v1).toHaveLength(1);
    expect(v1[0]).not.toHaveProperty('outputSchema');
  });

  it('matches v1Requirements, the object sent to the facilitator for v1 payloads', () => {
    const v1 = acceptsOf(challenge.render(URL_, undefined).body);
    expect(v1[0]).toEqual(v1Requirements(offer, route.resource, URL_));
  });

  it('refuses at start-up a route string that collides with an internal placeholder', () => {
    const description = '\u0000x402:error\u0000';
    expect(() => challengeOf(makeRoute({ description }))).toThrow(/placeholder/);
  });

  it('refuses a route without offers (a free route has no challenge)', () => {
    expect(() => challengeOf(makeRoute({ offers: [] }))).toThrow(/no offers/);
  });
});

describe('challenge parsed by the official @x402/core client', () => {
  const route = makeRoute({
    offers: [makeOffer({ network: BASE_SEPOLIA }), makeOffer({ network: BASE })],
  });
  const rendered = challengeOf(route).render(URL_, undefined);

  it('reads the PAYMENT-REQUIRED header as a valid v2 PaymentRequired', () => {
    const headers = new Headers({ [PAYMENT_REQUIRED]: rendered.headerValue });
    const pr = officialClient().getPaymentRequiredResponse(
      (n) => headers.get(n),
      jsonObject(rendered.body),
    );
    expect(pr.x402Version).toBe(2);
    const checked = PaymentRequiredV2Schema.safeParse(pr);
    expect(checked.success).toBe(true);
    expect(checked.data?.accepts).toHaveLength(2);
    expect(checked.data?.resource.url).toBe(URL_);
  });

  it('reads the v1 body as a valid v1 PaymentRequired when there is no header', () => {
    const pr = officialClient().getPaymentRequiredResponse(() => null, jsonObject(rendered.body));
    expect(pr.x402Version).toBe(1);
    const checked = PaymentRequiredV1Schema.safeParse(pr);
    expect(checked.success).toBe(true);
    expect(checked.data?.accepts.map((a) => a.network)).toEqual(['base-sepolia', 'base']);
  });

  it('reads the reason of a rejection from the header', () => {
    const rejected = challengeOf(route).render(URL_, REASON.paymentAlreadyUsed);
    const headers = new Headers({ [PAYMENT_REQUIRED]: rejected.headerValue });
    const result = officialClient().parsePaymentResult({
      status: 402,
      getHeader: (n) => headers.get(n),
      body: jsonObject(rejected.body),
    });
    expect(result.paymentStatus).toBe('payment_required');
    expect(result.header).toMatchObject({ error: 'payment_already_used' });
  });
});
