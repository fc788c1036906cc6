import { describe, expect, it } from 'vitest';
import { canonicalizeTarget } from '../../../src/pricing/canonical.js';

function ok(url: string): { path: string; matchKey: string; search: string } {
  const r = canonicalizeTarget(url);
  if (!r.ok) throw new Error(`expected ${url} to be accepted`);
  return { path: r.path, matchKey: r.matchKey, search: r.search };
}

function invalid(url: string): boolean {
  return !canonicalizeTarget(url).ok;
}

describe('canonicalizeTarget: every spelling of /v1/quote reaches the same match key', () => {
  it.each([
    '/v1/quote',
    '/v1/%71uote',
    '/v1/%71%75ote',
    '/v1//quote',
    '//v1///quote',
    '/v1/x/../quote',
    '/v1/./quote',
    '/v1/%2e%2e/v1/quote',
    '/v1/%2E%2e/v1/quote',
    '/v1/quote/',
    '/v1/quote/.',
    '/../../v1/quote',
    '/%76%31/quote',
    'http://api.example.com/v1/quote',
    'HTTPS://api.example.com/v1/quote',
  ])('%s', (url) => {
    expect(ok(url).matchKey).toBe('/v1/quote');
  });

  it('keeps the case of the path for the upstream but lower-cases the match key', () => {
    expect(ok('/V1/Quote')).toEqual({ path: '/V1/Quote', matchKey: '/v1/quote', search: '' });
  });

  it('keeps the query raw and out of the path', () => {
    expect(ok('/v1/quote?x=1&y=%2F')).toEqual({
      path: '/v1/quote',
      matchKey: '/v1/quote',
      search: '?x=1&y=%2F',
    });
    expect(ok('/v1//quote/?')).toEqual({ path: '/v1/quote', matchKey: '/v1/quote', search: '?' });
  });

  it('returns a clean path unchanged', () => {
    expect(ok('/v1/items/abc-1_2~3.json').path).toBe('/v1/items/abc-1_2~3.json');
  });

  it('keeps the root as /', () => {
    expect(ok('/').path).toBe('/');
    expect(ok('/..').path).toBe('/');
    expect(ok('//').path).toBe('/');
    expect(ok('http://host').path).toBe('/');
    expect(ok('http://host?q').search).toBe('?q');
  });

  it('keeps escapes of reserved characters encoded, with upper-case hex', () => {
    expect(ok('/v1/a%3fb').path).toBe('/v1/a%3Fb');
    expect(ok('/v1/a%20b').path).toBe('/v1/a%20b');
  });

  it('keeps valid UTF-8 escapes and encodes raw non-ASCII bytes', () => {
    expect(ok('/caf%c3%a9').path).toBe('/caf%C3%A9');
    // node hands raw bytes over as latin1: "Ã©" is the UTF-8 encoding of "é"
    expect(ok('/caf\u00c3\u00a9').path).toBe('/caf%C3%A9');
  });
});

describe('canonicalizeTarget: ambiguous spellings are refused', () => {
  it.each([
    ['/v1/quote;x', 'a raw ;'],
    ['/v1/quote%3Bx', 'an encoded ;'],
    ['\\v1\\quote', 'backslashes'],
    ['/v1\\quote', 'a raw backslash'],
    ['/v1/%5Cquote', 'an encoded backslash'],
    ['/v1%2Fquote', 'an encoded slash'],
    ['/v1%2fquote', 'a lower-case encoded slash'],
    ['/v1/quote%00', 'an encoded NUL'],
    ['/v1/quote\u0000', 'a raw NUL'],
    ['/v1/quote\u0001', 'a control character'],
    ['/%C0%AE%C0%AE/', 'overlong UTF-8 dots'],
    ['/v1/%C0%AF', 'overlong UTF-8 slash'],
    ['/v1/%FF', 'an invalid UTF-8 byte'],
    ['/v1/%C3', 'a truncated UTF-8 sequence'],
    ['/v1/%C3x', 'a UTF-8 lead byte followed by ASCII'],
    ['/v1/%ED%A0%80', 'an encoded UTF-16 surrogate'],
    ['/v1/%E0%80%AF', 'an overlong 3-byte form'],
    ['/v1/%F4%90%80%80', 'a code point past U+10FFFF'],
    ['/v1/\u00ff', 'a raw invalid byte'],
    ['/v1/%', 'a truncated escape'],
    ['/v1/%2', 'a one-digit escape'],
    ['/v1/%zz', 'a non-hex escape'],
    ['/v1/quote#frag', 'a fragment'],
    ['*', 'the asterisk form'],
    ['v1/quote', 'a relative path'],
    ['', 'an empty target'],
    ['ftp://host/v1', 'another scheme'],
    ['/v1/\u2603', 'a character above 0xFF (cannot come from node)'],
  ])('%j (%s)', (url) => {
    expect(invalid(url)).toBe(true);
  });
});

describe('canonicalizeTarget: scale', () => {
  it('handles a long path of dot segments in linear time', () => {
    const url = '/a/..'.repeat(50_000) + '/v1/quote';
    const start = performance.now();
    expect(ok(url).matchKey).toBe('/v1/quote');
    expect(performance.now() - start).toBeLessThan(500);
  });
});
