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
    cache.set('d', VALID, T0_SEC + 60);
    expect(cache.get('d')).toEqual(VALID);
    clock.now = T0 + 59_999;
    expect(cache.get('d')).toEqual(VALID);
    clock.now = T0 + 60_000;
    expect(cache.get('d')).toBeUndefined();
  });

  it('keeps a negative entry for the negative TTL when validBefore is later', () => {
    const { cache, clock } = makeCache(100, 5_000);
    cache.set('d', INVALID, T0_SEC + 60);
    clock.now = T0 + 5_000;
    expect(cache.get('d')).toEqual(INVALID);
    clock.now = T0 + 5_001;
    expect(cache.get('d')).toBeUndefined();
  });

  it('caps a negative entry at validBefore when that comes before the negative TTL', () => {
    const { cache, clock } = makeCache(100, 60_000);
    cache.set('d', INVALID, T0_SEC + 2);
    clock.now = T0 + 1_999;
    expect(cache.get('d')).toEqual(INVALID);
    clock.now = T0 + 2_000;
    expect(cache.get('d')).toBeUndefined();
  });

  it('does not store an entry whose validBefore has already passed', () => {
    const { cache } = makeCache();
    cache.set('past', VALID, T0_SEC - 1);
    cache.set('now', VALID, T0_SEC);
    expect(cache.get('past')).toBeUndefined();
    expect(cache.get('now')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops an older entry when an already expired one is stored under its digest', () => {
    const { cache } = makeCache();
    cache.set('d', VALID, T0_SEC + 60);
    cache.set('d', INVALID, T0_SEC - 1);
    expect(cache.get('d')).toBeUndefined();
  });

  it('evicts the least recently used entry past maxEntries', () => {
    const { cache } = makeCache(2);
    cache.set('a', VALID, T0_SEC + 60);
    cache.set('b', VALID, T0_SEC + 60);
    cache.get('a'); // a is now more recent than b
    cache.set('c', VALID, T0_SEC + 60);
    expect(cache.get('a')).toEqual(VALID);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toEqual(VALID);
    expect(cache.size).toBe(2);
  });

  it('forgets a deleted entry', () => {
    const { cache } = makeCache();
    cache.set('d', VALID, T0_SEC + 60);
    cache.delete('d');
    expect(cache.get('d')).toBeUndefined();
  });

  it('uses the real clock when none is injected', () => {
    const cache = new LruVerifyCache({ maxEntries: 10, negativeTtlMs: 1_000 });
    const nowSec = Math.floor(Date.now() / 1000);
    cache.set('live', VALID, nowSec + 60);
    cache.set('dead', VALID, nowSec - 60);
    expect(cache.get('live')).toEqual(VALID);
    expect(cache.get('dead')).toBeUndefined();
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
