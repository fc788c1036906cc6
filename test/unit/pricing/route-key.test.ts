import { describe, expect, it } from 'vitest';
import { parseRouteKey } from '../../../src/pricing/route-key.js';

function tieKey(key: string): string {
  const r = parseRouteKey(key);
  if (!r.ok) throw new Error(`${key}: ${r.message}`);
  return r.value.tieKey;
}

function problem(key: string): string {
  const r = parseRouteKey(key);
  if (r.ok) throw new Error(`${key} should be refused`);
  return r.message;
}

describe('parseRouteKey', () => {
  it('reads a method and a path, or a path alone for any method', () => {
    const withMethod = parseRouteKey('GET /v1/items/:id');
    expect(withMethod.ok && withMethod.value).toMatchObject({
      method: 'GET',
      pattern: '/v1/items/:id',
      segments: [
        { kind: 'literal', value: 'v1' },
        { kind: 'literal', value: 'items' },
        { kind: 'param', name: 'id' },
      ],
    });
    const anyMethod = parseRouteKey('/v1/search/*');
    expect(anyMethod.ok && anyMethod.value.method).toBe(null);
    expect(anyMethod.ok && anyMethod.value.segments.at(-1)).toEqual({ kind: 'wildcard' });
  });

  it('gives routes that cannot be told apart the same tie key', () => {
    expect(tieKey('GET /v1/Quote')).toBe(tieKey('GET /v1/quote/'));
    expect(tieKey('GET /v1/items/:id')).toBe(tieKey('GET /v1/items/:key'));
    expect(tieKey('/v1/*')).toBe(tieKey('/V1/*'));
  });

  it('gives routes of different specificity or method different tie keys', () => {
    expect(tieKey('GET /v1/quote')).not.toBe(tieKey('/v1/quote'));
    expect(tieKey('GET /v1/quote')).not.toBe(tieKey('POST /v1/quote'));
    expect(tieKey('GET /v1/:x')).not.toBe(tieKey('GET /v1/*'));
    expect(tieKey('GET /v1/:x')).not.toBe(tieKey('GET /v1/x'));
  });

  it('refuses HEAD and says it is priced as GET', () => {
    expect(problem('HEAD /v1/quote')).toMatch(/priced as GET/);
  });

  it.each([
    ['TRACE /x', /not one of GET, POST/],
    ['get /x', /not one of/],
    ['GET x', /start with "\/"/],
    ['GET  /x', /start with "\/"/],
    ['GETx', /METHOD \/path/],
    ['/a/*/b', /whole last segment/],
    ['/a/b*', /whole last segment/],
    ['/a/:', /param/],
    ['/a/:1x', /param/],
    ['/a/:id/:id', /twice/],
    ['/a//b', /empty segment/],
    ['/a/../b', /canonical path/],
    ['/a/%71', /not allowed/],
    ['/a;b', /not allowed/],
    ['/a b', /not allowed/],
    ['/a/b:c', /":" may only start a param/],
    ['/caf\u00e9', /not allowed/],
  ])('refuses %j', (key, message) => {
    expect(problem(key)).toMatch(message);
  });

  it('accepts the root, a root wildcard and sub-delims in literals', () => {
    expect(parseRouteKey('GET /').ok).toBe(true);
    expect(parseRouteKey('/*').ok).toBe(true);
    expect(parseRouteKey("/a!$&'()+,=~._-").ok).toBe(true);
  });
});
