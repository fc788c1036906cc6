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

describe('canonicalizeTarget: whitespace, controls, invisibles and double encoding (issue 13)', () => {
  it.each([
    ['/v1/quote%20', 'an encoded space ending the path'],
    ['/v1%20/quote', 'an encoded space ending a middle segment'],
    ['/v1/%20quote', 'an encoded space starting a segment'],
    ['/v1/quote%09', 'an encoded tab'],
    ['/v1/quote%0A', 'an encoded LF'],
    ['/v1/quote%0d%0a', 'an encoded CRLF'],
    ['/v1/qu%0Bote', 'an encoded control character inside a segment'],
    ['/v1/quote%1F', 'an encoded unit separator'],
    ['/v1/quote%7F', 'an encoded DEL'],
    ['/v1/quote%C2%85', 'an encoded C1 control (NEL)'],
    ['/v1/quote%C2%A0', 'an encoded no-break space at the end'],
    ['/v1/%E3%80%80quote', 'an encoded ideographic space at the start'],
    ['/v1/quote%E2%80%8B', 'an encoded zero-width space'],
    ['/v1/qu%E2%80%8Bote', 'a zero-width space inside a segment'],
    ['/v1/quote\u00e2\u0080\u008b', 'a raw zero-width space (UTF-8 bytes as latin1)'],
    ['/v1/quote%EF%BB%BF', 'an encoded BOM'],
    ['/%EF%BB%BFv1/quote', 'a BOM at the start'],
    ['/v1/quote\u00ef\u00bb\u00bf', 'a raw BOM'],
    ['/v1/%E2%80%AEetouq', 'a right-to-left override'],
    ['/v1/quote%E2%81%A0', 'a word joiner'],
    ['/v1/quote%C2%AD', 'a soft hyphen'],
    ['/v1/%2570', 'double encoding'],
    ['/v1/quote%252F', 'a double-encoded slash'],
    ['/v1/%25%37%30', 'double encoding with encoded digits'],
    ['/v1/%2541', 'double encoding with upper-case hex'],
  ])('%j (%s)', (url) => {
    expect(invalid(url)).toBe(true);
  });

  it('keeps inner spaces, a lone %25 and ordinary non-ASCII letters', () => {
    expect(ok('/files/my%20doc').path).toBe('/files/my%20doc');
    expect(ok('/v1/100%25').path).toBe('/v1/100%25');
    expect(ok('/v1/100%25-off').path).toBe('/v1/100%25-off');
    expect(ok('/v1/a%C2%A0b').path).toBe('/v1/a%C2%A0b');
    expect(ok('/v1/%E2%82%AC').path).toBe('/v1/%E2%82%AC');
    expect(ok('/v1/%F0%9F%98%80').path).toBe('/v1/%F0%9F%98%80');
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
