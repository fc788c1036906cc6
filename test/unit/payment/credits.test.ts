/**
 * The credit index: which settled, undelivered payment a payer's new payment may be served through.
 * Same route and price only (case-insensitive addresses), oldest first, one request per credit at a
 * time, lapsed after the window, bounded in size; unknown settlements are listed for a chain lookup.
 */
import { describe, expect, it } from 'vitest';
import { CreditIndex, type CreditSource, type CreditTerms } from '../../../src/payment/index.js';

const T0 = 1_700_000_000_000;
const WINDOW = 3_600_000;

const terms: CreditTerms = {
  route: 'GET /v1/items/:id',
  payer: '0x00000000000000000000000000000000000000aa',
  network: 'eip155:84532',
  asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
  payTo: '0x00000000000000000000000000000000000000Bb',
  amount: '2000',
};

function source(key: string, overrides: Partial<CreditSource> = {}): CreditSource {
  return { ...terms, key, transaction: `0x${key}`, settledAt: T0, ...overrides };
}

describe('CreditIndex', () => {
  it('is empty until a credit or an unknown settlement is added', () => {
    const credits = new CreditIndex(WINDOW);
    expect(credits.empty).toBe(true);
    expect(credits.take(terms, T0)).toBeUndefined();
    credits.addUnknown(terms, 'u1');
    expect(credits.empty).toBe(false);
  });

  it('finds a credit for the same terms, whatever the case of the addresses', () => {
    const credits = new CreditIndex(WINDOW);
    credits.grant(source('k1'));
    const shouted = {
      ...terms,
      payer: terms.payer.toUpperCase().replace('0X', '0x'),
      asset: terms.asset.toLowerCase(),
    };
    expect(credits.take(shouted, T0 + 1)).toMatchObject({ key: 'k1', transaction: '0xk1' });
  });

  it.each([
    ['route', { route: 'GET /v1/quote' }],
    ['payer', { payer: '0x00000000000000000000000000000000000000cc' }],
    ['price', { amount: '2001' }],
    ['network', { network: 'eip155:8453' }],
    ['asset', { asset: '0x0000000000000000000000000000000000000001' }],
    ['payTo', { payTo: '0x0000000000000000000000000000000000000002' }],
  ])('never serves another %s', (_, change) => {
    const credits = new CreditIndex(WINDOW);
    credits.grant(source('k1'));
    expect(credits.take({ ...terms, ...change }, T0)).toBeUndefined();
    expect(credits.take(terms, T0)).toMatchObject({ key: 'k1' });
  });

  it('lends a credit to one request at a time, oldest first', () => {
    const credits = new CreditIndex(WINDOW);
    credits.grant(source('old', { settledAt: T0 }));
    credits.grant(source('new', { settledAt: T0 + 10 }));
    expect(credits.take(terms, T0 + 20)?.key).toBe('old');
    expect(credits.take(terms, T0 + 20)?.key).toBe('new');
    expect(credits.take(terms, T0 + 20)).toBeUndefined();
    credits.giveBack('old'); // its response broke: owed still
    expect(credits.take(terms, T0 + 20)?.key).toBe('old');
    credits.spend('old'); // delivered
    credits.giveBack('new');
    expect(credits.take(terms, T0 + 20)?.key).toBe('new');
    credits.spend('new');
    expect(credits.empty).toBe(true);
  });

  it('drops a credit past its window', () => {
    const credits = new CreditIndex(WINDOW);
    credits.grant(source('k1', { settledAt: T0 }));
    expect(credits.take(terms, T0 + WINDOW + 1)).toBeUndefined();
    expect(credits.empty).toBe(true);
  });

  it('lists unknown settlements until they become credits or are forgotten', () => {
    const granted: number[] = [];
    const credits = new CreditIndex(WINDOW, { onGrant: () => granted.push(1) });
    credits.addUnknown(terms, 'u1');
    credits.addUnknown(terms, 'u2');
    expect(credits.unknownOf(terms)).toEqual(['u1', 'u2']);
    expect(credits.unknownOf({ ...terms, amount: '1' })).toEqual([]);
    credits.grant(source('u1')); // the chain showed it landed
    expect(credits.unknownOf(terms)).toEqual(['u2']);
    expect(granted).toHaveLength(1);
    credits.forget('u2'); // it failed
    expect(credits.unknownOf(terms)).toEqual([]);
    expect(credits.take(terms, T0)?.key).toBe('u1');
    // A second grant of the same record is not a second credit.
    credits.grant(source('u1'));
    expect(granted).toHaveLength(1);
  });

  it('forgets nothing but unknown settlements', () => {
    const credits = new CreditIndex(WINDOW);
    credits.grant(source('k1'));
    credits.forget('k1');
    expect(credits.take(terms, T0)?.key).toBe('k1');
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const credits = new CreditIndex(WINDOW, { maxEntries: 2 });
    credits.grant(source('a'));
    credits.grant(source('b'));
    credits.addUnknown(terms, 'c');
    expect(credits.size).toBe(2);
    expect(credits.take(terms, T0)?.key).toBe('b');
    expect(credits.take(terms, T0)).toBeUndefined();
    expect(credits.unknownOf(terms)).toEqual(['c']);
  });
});
