import { describe, expect, it } from 'vitest';
import { canonicalizeTarget } from '../../../src/pricing/canonical.js';
import { createPriceTable } from '../../../src/pricing/price-table.js';
import { PAY_TO, route } from '../../helpers/routes.js';

function matcher(keys: string[]): (method: string, url: string) => string | undefined {
  const table = createPriceTable(keys.map((k) => route(k)));
  return (method, url) => {
    const c = canonicalizeTarget(url);
    if (!c.ok) throw new Error(`invalid test url ${url}`);
    return table.match(method, c.matchKey)?.id;
  };
}

describe('PriceTable.match: specificity', () => {
  const match = matcher([
    'GET /v1/items/special',
    'GET /v1/items/:id',
    '/v1/items/*',
    'GET /v1/:any/special',
    '/v1/*',
    'GET /',
  ]);

  it('prefers a literal segment over a param over a wildcard', () => {
    expect(match('GET', '/v1/items/special')).toBe('GET /v1/items/special');
    expect(match('GET', '/v1/items/42')).toBe('GET /v1/items/:id');
    expect(match('GET', '/v1/items/42/more')).toBe('/v1/items/*');
  });

  it('compares segment by segment from the left', () => {
    // "/v1/items/*" (literal at segment 2) beats "/v1/:any/special" (param at segment 2)
    expect(match('GET', '/v1/items/special/x')).toBe('/v1/items/*');
    expect(match('GET', '/v1/other/special')).toBe('GET /v1/:any/special');
    expect(match('GET', '/v1/other/plain')).toBe('/v1/*');
  });

  it('lets a wildcard route cover its own prefix', () => {
    expect(match('GET', '/v1/items')).toBe('/v1/items/*');
    expect(match('GET', '/v1')).toBe('/v1/*');
  });

  it('matches case-insensitively and on the canonical path', () => {
    expect(match('GET', '/V1/ITEMS/Special')).toBe('GET /v1/items/special');
    expect(match('GET', '/v1//items/./x/../special/')).toBe('GET /v1/items/special');
  });

  it('matches the root only exactly', () => {
    expect(match('GET', '/')).toBe('GET /');
    expect(match('GET', '/other')).toBeUndefined();
  });

  it('returns undefined for paths no route covers', () => {
    expect(match('GET', '/v2/items')).toBeUndefined();
  });
});

describe('PriceTable.match: methods', () => {
  const match = matcher(['GET /v1/quote', '/v1/quote', 'POST /v1/items/:id', '/v1/items/*']);

  it('prefers a route naming the method over an any-method route of the same shape', () => {
    expect(match('GET', '/v1/quote')).toBe('GET /v1/quote');
    expect(match('POST', '/v1/quote')).toBe('/v1/quote');
  });

  it('prices HEAD as GET', () => {
    expect(match('HEAD', '/v1/quote')).toBe('GET /v1/quote');
  });

  it('skips a route of another method and backtracks to a less specific one', () => {
    expect(match('POST', '/v1/items/1')).toBe('POST /v1/items/:id');
    expect(match('GET', '/v1/items/1')).toBe('/v1/items/*');
    expect(match('DELETE', '/v1/items/1')).toBe('/v1/items/*');
  });

  it('keeps path specificity ahead of the method', () => {
    const m = matcher(['GET /a/*', '/a/b']);
    expect(m('GET', '/a/b')).toBe('/a/b');
  });

  it('returns undefined when only routes of other methods cover the path', () => {
    const m = matcher(['POST /only']);
    expect(m('GET', '/only')).toBeUndefined();
    expect(m('HEAD', '/only')).toBeUndefined();
  });
});

describe('PriceTable offers', () => {
  it('builds one frozen v2 requirement per priced route, in wire key order', () => {
    const table = createPriceTable([route('GET /paid', 1234n), route('GET /free', 0n)]);
    const paid = table.match('GET', '/paid');
    expect(paid?.free).toBe(false);
    expect(paid?.offers).toHaveLength(1);
    const req = paid?.offers[0]?.requirementsV2;
    expect(Object.keys(req ?? {})).toEqual([
      'scheme',
      'network',
      'amount',
      'asset',
      'payTo',
      'maxTimeoutSeconds',
      'extra',
    ]);
    expect(req).toEqual({
      scheme: 'exact',
      network: 'eip155:84532',
      amount: '1234',
      asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
      payTo: PAY_TO,
      maxTimeoutSeconds: 120,
      extra: { name: 'USDC', version: '2' },
    });
    expect(Object.isFrozen(req)).toBe(true);
    expect(Object.isFrozen(req?.extra)).toBe(true);
    expect(paid?.offers[0]?.amountText).toBe('1234');

    const free = table.match('GET', '/free');
    expect(free?.free).toBe(true);
    expect(free?.offers).toEqual([]);
    expect(table.routes.map((r) => r.id)).toEqual(['GET /paid', 'GET /free']);
  });

  it('throws when handed routes that validation should have refused', () => {
    expect(() => createPriceTable([route('GET /a'), route('GET /A/')])).toThrow(/tie/);
  });
});

describe('PriceTable with 10,000 routes', () => {
  const keys: string[] = [];
  for (let i = 0; i < 2500; i++) {
    keys.push(`GET /api/v${i % 10}/r${i}/items`);
    keys.push(`POST /api/v${i % 10}/r${i}/items/:id`);
    keys.push(`/api/v${i % 10}/r${i}/files/*`);
    keys.push(`GET /api/v${i % 10}/r${i}/items/:id/detail`);
  }
  const table = createPriceTable(keys.map((k, i) => route(k, BigInt(i + 1))));

  it('finds the right route for every one of them', () => {
    for (let i = 0; i < 2500; i++) {
      const v = `v${i % 10}`;
      expect(table.match('GET', `/api/${v}/r${i}/items`)?.id).toBe(keys[i * 4]);
      expect(table.match('POST', `/api/${v}/r${i}/items/x`)?.id).toBe(keys[i * 4 + 1]);
      expect(table.match('GET', `/api/${v}/r${i}/files/a/b/c`)?.id).toBe(keys[i * 4 + 2]);
      expect(table.match('HEAD', `/api/${v}/r${i}/items/7/detail`)?.id).toBe(keys[i * 4 + 3]);
      expect(table.match('GET', `/api/${v}/r${i}/items/7`)).toBeUndefined();
    }
  });

  it('looks up quickly (no linear scan)', () => {
    const start = performance.now();
    for (let n = 0; n < 100_000; n++) {
      table.match('POST', `/api/v3/r2493/items/${n}`);
    }
    // 100k lookups over 10k routes: a linear scan would take seconds.
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
