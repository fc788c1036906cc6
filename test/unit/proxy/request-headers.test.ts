import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { upstreamHeaders } from '../../../src/proxy/request-headers.js';

const facts = {
  clientIp: '10.0.0.7',
  host: 'api.example.com',
  proto: 'https' as const,
  requestId: 'r-1',
};

const UNTRUSTED = { trustProxy: false, dropUnderscoreHeaders: true };
const TRUSTED = { trustProxy: true, dropUnderscoreHeaders: true };

function clientHeaders(): IncomingHttpHeaders {
  return {
    host: 'api.example.com',
    accept: 'application/json',
    connection: 'keep-alive, x-hop',
    'x-hop': 'by connection',
    'keep-alive': 'timeout=5',
    te: 'trailers',
    'payment-signature': 'sig',
    'x-payment': 'v1',
    'x-payment-payer': '0xforged',
    'x-http-method-override': 'DELETE',
    'x-original-url': '/admin',
    'x-forwarded-for': '6.6.6.6',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'http',
    forwarded: 'for=6.6.6.6',
  };
}

describe('upstreamHeaders', () => {
  it('drops payment, hop-by-hop, rewrite and client X-Forwarded headers, then sets ours', () => {
    const client = clientHeaders();
    const headers = upstreamHeaders(
      client,
      facts,
      { payer: '0xabc', amount: '1000', network: 'eip155:84532' },
      UNTRUSTED,
    );
    // The client's object is read, not changed.
    expect(client).toEqual(clientHeaders());
    expect(headers).toEqual({
      host: 'api.example.com',
      accept: 'application/json',
      'x-forwarded-for': '10.0.0.7',
      'x-forwarded-host': 'api.example.com',
      'x-forwarded-proto': 'https',
      'x-request-id': 'r-1',
      'x-payment-payer': '0xabc',
      'x-payment-amount': '1000',
      'x-payment-network': 'eip155:84532',
    });
  });

  it('with trustProxy keeps the chain of X-Forwarded-For and appends the peer', () => {
    const headers = upstreamHeaders(clientHeaders(), facts, undefined, TRUSTED);
    expect(headers['x-forwarded-for']).toBe('6.6.6.6, 10.0.0.7');
    expect(headers['x-forwarded-host']).toBe('evil.example');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers.forwarded).toBe('for=6.6.6.6');
    // Payment and rewrite headers go whatever the trust setting.
    expect(headers['x-payment-payer']).toBeUndefined();
    expect(headers['x-original-url']).toBeUndefined();
    expect(headers['payment-signature']).toBeUndefined();
  });

  it('tells an unpaid request nothing about payers', () => {
    const headers = upstreamHeaders(
      { host: 'h', 'x-payment-amount': '1' },
      facts,
      undefined,
      UNTRUSTED,
    );
    expect(Object.keys(headers).filter((k) => k.startsWith('x-payment'))).toEqual([]);
  });

  it('drops every client spelling of a fact the gateway vouches for (issue 13)', () => {
    const spoofed: IncomingHttpHeaders = {
      host: 'h',
      x_payment_payer: '0xforged',
      x_payment_amount: '1000000',
      x_payment_network: 'eip155:8453',
      'x-payment_payer': '0xforged',
      x_request_id: 'forged',
      x_forwarded_for: '6.6.6.6',
      'x_forwarded-host': 'evil.example',
      x_http_method_override: 'DELETE',
      x_original_url: '/admin',
      'x-original-uri': '/admin',
      'x-forwarded-uri': '/admin',
      'x-forwarded-path': '/admin',
      'x-envoy-original-path': '/admin',
      x_envoy_original_path: '/admin',
      my_custom_header: 'kept only when underscores are allowed',
      'x-custom': 'kept',
    };
    for (const policy of [UNTRUSTED, TRUSTED]) {
      for (const dropUnderscoreHeaders of [true, false]) {
        const headers = upstreamHeaders({ ...spoofed }, facts, undefined, {
          ...policy,
          dropUnderscoreHeaders,
        });
        const names = Object.keys(headers).sort();
        const expected = ['host', 'x-custom', 'x-forwarded-for', 'x-forwarded-host'];
        expected.push('x-forwarded-proto', 'x-request-id');
        if (!dropUnderscoreHeaders) expected.push('my_custom_header');
        expect(names).toEqual(expected.sort());
        expect(headers['x-request-id']).toBe('r-1');
      }
    }
  });
});
