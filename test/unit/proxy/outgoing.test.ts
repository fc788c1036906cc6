import { describe, expect, it } from 'vitest';
import { publicLocation, responseHeaders } from '../../../src/proxy/outgoing.js';

describe('responseHeaders', () => {
  it('passes the upstream headers minus framing, hop-by-hop, Connection-named and x402 ones', () => {
    const headers = responseHeaders({
      'content-type': 'application/json',
      'content-length': '12',
      'set-cookie': ['a=1', 'b=2'],
      connection: 'keep-alive, X-Hop',
      'x-hop': 'this connection only',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'payment-response': 'forged receipt',
      'x-payment-response': 'forged receipt',
      'payment-required': 'forged challenge',
      'x-kept': 'yes',
    });
    expect(headers).toEqual({
      'content-type': 'application/json',
      'content-length': '12',
      'set-cookie': ['a=1', 'b=2'],
      'x-kept': 'yes',
    });
  });

  it('with the usual Connection value keeps everything else', () => {
    expect(responseHeaders({ connection: 'Keep-Alive', 'x-kept': 'yes' })).toEqual({
      'x-kept': 'yes',
    });
  });
});

describe('publicLocation: the upstream origin never reaches the client (issue 13)', () => {
  const origins = { upstream: 'http://10.0.0.5:3000/api', public: 'https://pay.example.com' };

  it.each([
    ['http://10.0.0.5:3000/api/v1/items/7', 'https://pay.example.com/v1/items/7'],
    ['http://10.0.0.5:3000/api', 'https://pay.example.com/'],
    ['HTTP://10.0.0.5:3000/api/x?a=1#f', 'https://pay.example.com/x?a=1#f'],
    ['//10.0.0.5:3000/api/x', 'https://pay.example.com/x'],
    ['http://10.0.0.5:3000/elsewhere', 'https://pay.example.com/elsewhere'],
  ])('%s → %s', (value, expected) => {
    expect(publicLocation(value, origins)).toBe(expected);
  });

  it.each([
    '/api/relative',
    'relative/path',
    '?page=2',
    'https://other.example/x',
    'http://10.0.0.5:3001/api/x',
    'https://10.0.0.5:3000/api/x',
    'mailto:ops@example.com',
    'http://[bad',
  ])('%s stays as it is', (value) => {
    expect(publicLocation(value, origins)).toBe(value);
  });

  it('matches the default port and keeps a public base path', () => {
    const o = { upstream: 'http://upstream.internal', public: 'https://pay.example.com/gw/' };
    expect(publicLocation('http://upstream.internal:80/x', o)).toBe('https://pay.example.com/gw/x');
  });

  it('rewrites Location, Content-Location, every Link target and a Refresh url; nothing else', () => {
    const headers = responseHeaders(
      {
        location: 'http://10.0.0.5:3000/api/v1/a',
        'content-location': 'http://10.0.0.5:3000/api/v1/a.json',
        link: '<http://10.0.0.5:3000/api/v1/b>; rel=next, </api/v1/c>; rel=prev, <https://cdn.example/s.css>; rel=preload',
        refresh: '5; url="http://10.0.0.5:3000/api/v1/d"',
        'x-origin': 'http://10.0.0.5:3000/api/v1/e',
      },
      origins,
    );
    expect(headers).toEqual({
      location: 'https://pay.example.com/v1/a',
      'content-location': 'https://pay.example.com/v1/a.json',
      link: '<https://pay.example.com/v1/b>; rel=next, </api/v1/c>; rel=prev, <https://cdn.example/s.css>; rel=preload',
      refresh: '5; url="https://pay.example.com/v1/d"',
      'x-origin': 'http://10.0.0.5:3000/api/v1/e',
    });
    expect(responseHeaders({ refresh: '0;URL=http://10.0.0.5:3000/api/z' }, origins)).toEqual({
      refresh: '0;URL=https://pay.example.com/z',
    });
  });
});
