import { describe, expect, it } from 'vitest';
import { LruVerifyCache, verifyDigest } from '../../../src/verify/cache.js';
import type { VerifyResponse } from '../../../src/x402/types.js';

// lru-cache treats a start time of 0 as "no TTL", so the fake clock starts at a realistic epoch.
const T0 = 1_700_000_000_000;
const T0_SEC = T0 / 1000;

const VALID: VerifyResponse = {
  isValid: true,
  payer: '0x2222222222222222222222222222222222222222',
};
const INVALID: VerifyResponse = {
  isValid: false,
  invalidReason: 'invalid_exact_evm_payload_signature',
};

function makeCache(maxEntries = 100, negativeTtlMs = 5_000) {
  const clock = { now: T0 };
  const cache = new LruVerifyCache({ maxEntries, negativeTtlMs, now: () => clock.now });
  return { cache, clock };
}

describe('LruVerifyCache', () => {
  it('serves a positive entry until validBefore and drops it at validBefore', () => {
    const { cache, clock } = makeCache();
    cache.set('d', 'h', VALID, T0_SEC + 60);
    expect(cache.get('d', () => 'h')).toEqual(VALID);
    clock.now = T0 + 59_999;
    expect(cache.get('d', () => 'h')).toEqual(VALID);
    clock.now = T0 + 60_000;
    expect(cache.get('d', () => 'h')).toBeUndefined();
  });

  it('keeps a negative entry for the negative TTL when validBefore is later', () => {
    const { cache, clock } = makeCache(100, 5_000);
    cache.set('d', 'h', INVALID, T0_SEC + 60);
    clock.now = T0 + 5_000;
    expect(cache.get('d', () => 'h')).toEqual(INVALID);
    clock.now = T0 + 5_001;
    expect(cache.get('d', () => 'h')).toBeUndefined();
  });

  it('caps a negative entry at validBefore when that comes before the negative TTL', () => {
    const { cache, clock } = makeCache(100, 60_000);
    cache.set('d', 'h', INVALID, T0_SEC + 2);
    clock.now = T0 + 1_999;
    expect(cache.get('d', () => 'h')).toEqual(INVALID);
    clock.now = T0 + 2_000;
    expect(cache.get('d', () => 'h')).toBeUndefined();
  });

  it('does not store an entry whose validBefore has already passed', () => {
    const { cache } = makeCache();
    cache.set('past', 'h', VALID, T0_SEC - 1);
    cache.set('now', 'h', VALID, T0_SEC);
    expect(cache.get('past', () => 'h')).toBeUndefined();
    expect(cache.get('now', () => 'h')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops an older entry when an already expired one is stored under its digest', () => {
    const { cache } = makeCache();
    cache.set('d', 'h', VALID, T0_SEC + 60);
    cache.set('d', 'h', INVALID, T0_SEC - 1);
    expect(cache.get('d', () => 'h')).toBeUndefined();
  });

  it('evicts the least recently used entry past maxEntries', () => {
    const { cache } = makeCache(2);
    cache.set('a', 'h', VALID, T0_SEC + 60);
    cache.set('b', 'h', VALID, T0_SEC + 60);
    cache.get('a', () => 'h'); // a is now more recent than b
    cache.set('c', 'h', VALID, T0_SEC + 60);
    expect(cache.get('a', () => 'h')).toEqual(VALID);
    expect(cache.get('b', () => 'h')).toBeUndefined();
    expect(cache.get('c', () => 'h')).toEqual(VALID);
    expect(cache.size).toBe(2);
  });

  it('answers only for the payload it was given for, and hashes nothing on a miss', () => {
    const { cache } = makeCache();
    let calls = 0;
    const other = (): string => {
      calls++;
      return 'h2';
    };
    expect(cache.get('k', other)).toBeUndefined();
    expect(calls).toBe(0);
    cache.set('k', 'h', VALID, T0_SEC + 60);
    expect(cache.get('k', other)).toBeUndefined(); // same authorization, different payload
    expect(calls).toBe(1);
    expect(cache.get('k', () => 'h')).toEqual(VALID);
  });

  it('keeps negative and positive verdicts in separate slots: a refused forgery never displaces the honest one', () => {
    const { cache } = makeCache();
    cache.set('k', 'honest', VALID, T0_SEC + 60);
    cache.set('k', 'forged', INVALID, T0_SEC + 60);
    expect(cache.get('k', () => 'honest')).toEqual(VALID);
    expect(cache.get('k', () => 'forged')).toEqual(INVALID);
    // Another forgery of the same authorization replaces only the negative slot.
    cache.set('k', 'forged2', INVALID, T0_SEC + 60);
    expect(cache.get('k', () => 'honest')).toEqual(VALID);
    expect(cache.get('k', () => 'forged')).toBeUndefined();
    expect(cache.get('k', () => 'forged2')).toEqual(INVALID);
  });

  it('a flood of refusals does not evict positive verdicts (each slot has maxEntries)', () => {
    const { cache } = makeCache(2);
    cache.set('a', 'h', VALID, T0_SEC + 60);
    cache.set('b', 'h', VALID, T0_SEC + 60);
    for (let i = 0; i < 10; i++) cache.set(`forged${i}`, 'x', INVALID, T0_SEC + 60);
    expect(cache.get('a', () => 'h')).toEqual(VALID);
    expect(cache.get('b', () => 'h')).toEqual(VALID);
    expect(cache.size).toBe(4);
  });

  it('hashes the payload once on a lookup that checks both slots', () => {
    const { cache } = makeCache();
    cache.set('k', 'h', VALID, T0_SEC + 60);
    cache.set('k', 'x', INVALID, T0_SEC + 60);
    let calls = 0;
    expect(
      cache.get('k', () => {
        calls++;
        return 'other';
      }),
    ).toBeUndefined();
    expect(calls).toBe(1);
  });

  it('forgets a deleted entry', () => {
    const { cache } = makeCache();
    cache.set('d', 'h', VALID, T0_SEC + 60);
    cache.delete('d');
    expect(cache.get('d', () => 'h')).toBeUndefined();
  });

  it('uses the real clock when none is injected', () => {
    const cache = new LruVerifyCache({ maxEntries: 10, negativeTtlMs: 1_000 });
    const nowSec = Math.floor(Date.now() / 1000);
    cache.set('live', 'h', VALID, nowSec + 60);
    cache.set('dead', 'h', VALID, nowSec - 60);
    expect(cache.get('live', () => 'h')).toEqual(VALID);
    expect(cache.get('dead', () => 'h')).toBeUndefined();
  });
});

describe('verifyDigest', () => {
  it('is a stable sha256 hex digest of the header and the requirement key', () => {
    const d = verifyDigest('eyJhIjoxfQ==', 'GET /x#0');
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyDigest('eyJhIjoxfQ==', 'GET /x#0')).toBe(d);
  });

  it('differs when either the header or the requirement key differs', () => {
    const d = verifyDigest('h', 'r');
    expect(verifyDigest('h2', 'r')).not.toBe(d);
    expect(verifyDigest('h', 'r2')).not.toBe(d);
  });

  it('does not confuse where the header ends and the requirement key begins', () => {
    expect(verifyDigest('ab', 'c')).not.toBe(verifyDigest('a', 'bc'));
  });
});
