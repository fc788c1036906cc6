import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodePaymentHeader, encodeHeaderJson } from '../../../src/x402/codec.js';
import { base64Text, jsonObject } from '../../helpers/x402-fixtures.js';

const vectorFile = z.object({
  defaultMaxBytes: z.number(),
  vectors: z.array(
    z.object({
      name: z.string(),
      header: z.string(),
      json: z.unknown(),
      maxBytes: z.number().optional(),
      expect: z.object({
        ok: z.boolean(),
        x402Version: z.number().optional(),
        reason: z.string().optional(),
      }),
    }),
  ),
});

const file = vectorFile.parse(
  JSON.parse(
    readFileSync(new URL('../../fixtures/x402/payment-headers.json', import.meta.url), 'utf8'),
  ),
);

describe('decodePaymentHeader golden vectors', () => {
  it('has both accepted and refused vectors', () => {
    expect(file.vectors.filter((v) => v.expect.ok).length).toBeGreaterThan(5);
    expect(file.vectors.filter((v) => !v.expect.ok).length).toBeGreaterThan(30);
  });

  for (const v of file.vectors) {
    it(v.name, () => {
      const result = decodePaymentHeader(v.header, v.maxBytes ?? file.defaultMaxBytes);
      if (v.expect.ok) {
        if (!result.ok) throw new Error(`expected ok, got ${result.reason}: ${result.detail}`);
        expect(result.payload.x402Version).toBe(v.expect.x402Version);
        // raw is the document exactly as sent, unknown keys included.
        expect(result.raw).toEqual(v.json);
      } else {
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect(result.reason).toBe(v.expect.reason);
          expect(result.detail.length).toBeLessThanOrEqual(160);
        }
      }
    });
  }
});

describe('decodePaymentHeader', () => {
  const v1 = file.vectors.find((v) => v.name === 'v1 spec example');
  const v2 = file.vectors.find((v) => v.name === 'v2 spec example');
  if (v1 === undefined || v2 === undefined) throw new Error('spec vectors missing');

  it('returns the typed v1 fields of the spec example', () => {
    const r = decodePaymentHeader(v1.header, 8192);
    if (!r.ok || r.payload.x402Version !== 1) throw new Error('v1 example did not decode as v1');
    expect(r.payload.network).toBe('base');
    expect(r.payload.scheme).toBe('exact');
    expect(r.payload.payload.authorization.value).toBe('1000');
    expect(r.payload.payload.authorization.to).toBe('0x1111111111111111111111111111111111111111');
  });

  it('keeps every key of the v2 accepted object for deep-equality matching', () => {
    const r = decodePaymentHeader(v2.header, 8192);
    if (!r.ok || r.payload.x402Version !== 2) throw new Error('v2 example did not decode as v2');
    expect(r.payload.accepted).toEqual({
      scheme: 'exact',
      network: 'eip155:8453',
      amount: '1000',
      asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
      payTo: '0x1111111111111111111111111111111111111111',
      maxTimeoutSeconds: 120,
      extra: { name: 'USD Coin', version: '2' },
    });
    expect(r.payload.resource?.url).toBe('https://gw.example.com/v1/quote?sym=ETH');
  });

  it('accepts a header exactly at the byte cap and refuses one byte over', () => {
    expect(decodePaymentHeader(v1.header, v1.header.length).ok).toBe(true);
    const over = decodePaymentHeader(v1.header, v1.header.length - 1);
    expect(over).toMatchObject({ ok: false, reason: 'invalid_payment_header' });
  });

  it('refuses a huge header by its length without echoing it in the detail', () => {
    const huge = 'A'.repeat(1_000_000);
    const r = decodePaymentHeader(huge, 8192);
    expect(r).toMatchObject({ ok: false, reason: 'invalid_payment_header' });
    if (!r.ok) expect(r.detail).toBe('header exceeds 8192 bytes');
  });

  it('reports an unsupported version distinctly from a malformed header', () => {
    const r = decodePaymentHeader(encodeHeaderJson({ x402Version: 3 }), 8192);
    expect(r).toMatchObject({ ok: false, reason: 'invalid_x402_version' });
  });

  it('names the failing field in the detail of a schema failure', () => {
    const doc = { ...(v1.json as object), scheme: 7 };
    const r = decodePaymentHeader(encodeHeaderJson(doc), 8192);
    if (r.ok) throw new Error('expected a failure');
    expect(r.detail).toMatch(/^scheme: /);
  });
});

describe('encodeHeaderJson', () => {
  it('produces padded standard base64 of UTF-8 JSON', () => {
    const value = encodeHeaderJson({ a: 'é~~~???' });
    expect(value).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(value.length % 4).toBe(0);
    expect(Buffer.from(value, 'base64').toString('utf8')).toBe('{"a":"é~~~???"}');
  });

  it('round-trips through decodePaymentHeader', () => {
    const doc = jsonObject(base64Text(file.vectors[0]?.header ?? ''));
    const r = decodePaymentHeader(encodeHeaderJson(doc), 8192);
    expect(r.ok && r.raw).toEqual(doc);
  });
});
