import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { x402HTTPClient, x402Client } from '@x402/core/client';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { rawRequest, decodeHeader } from '../helpers/raw-http.js';
import { TEST_PAY_TO } from '../helpers/payments.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('unpaid request to a priced route', () => {
  it('gets 402 with the v2 PAYMENT-REQUIRED header and the v1 JSON body, never reaching the upstream', async () => {
    const before = h.upstream.calls.length;
    const res = await rawRequest(h.url, { path: '/v1/quote?sym=ETH' });
    expect(res.status).toBe(402);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['access-control-expose-headers']).toContain('PAYMENT-REQUIRED');
    expect(res.headers['access-control-expose-headers']).toContain('X-PAYMENT-RESPONSE');
    const v2 = decodeHeader(res.headers['payment-required']);
    expect(v2).toMatchObject({
      x402Version: 2,
      resource: { url: `${h.url}/v1/quote?sym=ETH` },
      accepts: [
        {
          scheme: 'exact',
          network: 'eip155:84532',
          amount: '1000',
          asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
          payTo: TEST_PAY_TO,
          maxTimeoutSeconds: 120,
          extra: { name: 'USDC', version: '2' },
        },
      ],
    });
    const v1 = JSON.parse(res.body) as Record<string, unknown>;
    expect(v1).toMatchObject({
      x402Version: 1,
      accepts: [
        {
          scheme: 'exact',
          network: 'base-sepolia',
          maxAmountRequired: '1000',
          resource: `${h.url}/v1/quote?sym=ETH`,
          payTo: TEST_PAY_TO,
        },
      ],
    });
    expect(typeof v1.error).toBe('string');
    expect(h.upstream.calls.length).toBe(before);
  });

  it('is understood by the official @x402/core client in both forms', async () => {
    const res = await rawRequest(h.url, { path: '/v1/items/42' });
    const client = new x402HTTPClient(new x402Client());
    const fromHeader = client.getPaymentRequiredResponse((name) => {
      const v = res.headers[name.toLowerCase()];
      return typeof v === 'string' ? v : null;
    });
    expect(fromHeader.x402Version).toBe(2);
    expect(fromHeader.accepts[0]?.amount).toBe('2000');
    const fromBody = client.getPaymentRequiredResponse(() => null, JSON.parse(res.body));
    expect(fromBody.x402Version).toBe(1);
  });

  it('answers HEAD as GET with a 402 and no body', async () => {
    const res = await rawRequest(h.url, { method: 'HEAD', path: '/v1/quote' });
    expect(res.status).toBe(402);
    expect(res.headers['payment-required']).toBeDefined();
    expect(res.body).toBe('');
  });

  it('answers a CORS preflight itself with 204, allowing the payment headers', async () => {
    const before = h.upstream.calls.length;
    const res = await rawRequest(h.url, {
      method: 'OPTIONS',
      path: '/v1/vision',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(res.status).toBe(204);
    const allowed = String(res.headers['access-control-allow-headers']).toUpperCase();
    for (const header of [
      'PAYMENT-SIGNATURE',
      'X-PAYMENT',
      'ACCESS-CONTROL-EXPOSE-HEADERS',
      'CONTENT-TYPE',
    ]) {
      expect(allowed).toContain(header);
    }
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(h.upstream.calls.length).toBe(before);
  });

  it('prices the wildcard prefix itself and everything below it, for any method', async () => {
    for (const [method, path] of [
      ['GET', '/v1/search'],
      ['POST', '/v1/search/deep/er'],
      ['DELETE', '/v1/search/x'],
    ] as const) {
      const res = await rawRequest(h.url, { method, path });
      expect(res.status, `${method} ${path}`).toBe(402);
      expect(decodeHeader(res.headers['payment-required']).accepts).toMatchObject([
        { amount: '500' },
      ]);
    }
  });
});

describe('path spellings of a priced route', () => {
  const spellings = [
    '/v1/%71uote',
    '/v1//quote',
    '/v1/x/../quote',
    '/v1/./quote',
    '/V1/QUOTE',
    '/v1/quote/',
    '//v1/quote',
    '/v1/%2e%2e/v1/quote',
  ];
  it.each(spellings)(
    '%s is charged like /v1/quote and never reaches the upstream unpaid',
    async (path) => {
      const before = h.upstream.calls.length;
      const res = await rawRequest(h.url, { path });
      expect(res.status).toBe(402);
      expect(decodeHeader(res.headers['payment-required']).accepts).toMatchObject([
        { amount: '1000' },
      ]);
      expect(h.upstream.calls.length).toBe(before);
    },
  );

  const refused = [
    '/v1/quote;x',
    '\\v1\\quote',
    '/v1%2Fquote',
    '/v1/%5Cquote',
    '/v1/quote%00',
    '/v1/%C0%AFquote',
    '/v1/q%FFuote',
  ];
  it.each(refused)('%s is refused with 400 and a reason', async (path) => {
    const before = h.upstream.calls.length;
    const res = await rawRequest(h.url, { path });
    expect(res.status).toBe(400);
    // A raw backslash target is refused by node's HTTP parser itself (invalid_request).
    const reason = (JSON.parse(res.body) as { reason: string }).reason;
    expect(path.startsWith('\\') ? 'invalid_request' : 'invalid_path').toBe(reason);
    expect(h.upstream.calls.length).toBe(before);
  });
});

describe('free and unpriced routes', () => {
  it('forwards a price-0 route without asking for payment', async () => {
    const res = await rawRequest(h.url, { path: '/v1/health' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, url: '/v1/health' });
  });

  it('forwards an unpriced path with the canonical spelling, original case kept, query intact', async () => {
    const res = await rawRequest(h.url, { path: '/Other//Path/./x/?a=1&b=%2F' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ url: '/Other/Path/x?a=1&b=%2F' });
  });

  it('strips payment, hop-by-hop, rewrite and forged X-Forwarded headers before the upstream', async () => {
    await rawRequest(h.url, {
      path: '/v1/health',
      headers: {
        'x-payment': 'abc',
        'payment-signature': 'abc',
        'x-payment-payer': '0xforged',
        'x-http-method-override': 'DELETE',
        'x-original-url': '/v1/quote',
        'x-rewrite-url': '/v1/quote',
        'x-forwarded-for': '6.6.6.6',
        'x-forwarded-host': 'evil.example',
        connection: 'keep-alive, x-secret',
        'x-secret': 'hop',
      },
    });
    const seen = h.upstream.calls.at(-1)!.headers;
    for (const name of [
      'x-payment',
      'payment-signature',
      'x-payment-payer',
      'x-http-method-override',
      'x-original-url',
      'x-rewrite-url',
      'x-secret',
    ]) {
      expect(seen[name], name).toBeUndefined();
    }
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-forwarded-host']).not.toBe('evil.example');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-request-id']).toBeDefined();
  });

  it('strips a payment receipt forged by the upstream', async () => {
    const res = await rawRequest(h.url, { path: '/v1/health' });
    expect(res.headers['payment-response']).toBeUndefined();
  });
});

describe('unpriced: deny', () => {
  it('answers 404 not_found for paths no route prices, and still serves free routes', async () => {
    const deny = await startHarness({ unpriced: 'deny' });
    try {
      const res = await rawRequest(deny.url, { path: '/not/priced' });
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'not_found' });
      expect((await rawRequest(deny.url, { path: '/v1/health' })).status).toBe(200);
      expect(deny.upstream.calls.map((c) => c.url)).toEqual(['/v1/health']);
    } finally {
      await deny.close();
    }
  });
});

describe('publicUrl', () => {
  it('is the base of the resource URL behind TLS termination', async () => {
    const pub = await startHarness({ serverYaml: '  publicUrl: https://api.example.com' });
    try {
      const res = await rawRequest(pub.url, { path: '/v1//quote?x=1' });
      expect(decodeHeader(res.headers['payment-required']).resource).toMatchObject({
        url: 'https://api.example.com/v1/quote?x=1',
      });
    } finally {
      await pub.close();
    }
  });
});
