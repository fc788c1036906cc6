/**
 * The hand-written payload check must accept and refuse exactly what the zod schemas (the readable
 * reference in src/x402/schemas.ts) do, and produce the same typed value: every accepted golden
 * vector, and every one of its fields replaced by values of other types and shapes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkPayloadV1, checkPayloadV2 } from '../../../src/x402/payload-check.js';
import { paymentPayloadV1Schema, paymentPayloadV2Schema } from '../../helpers/reference-schemas.js';

interface Vector {
  readonly name: string;
  readonly header: string;
  readonly json: unknown;
  readonly expect: { readonly ok: boolean };
}
const vectors = (
  JSON.parse(
    readFileSync(new URL('../../fixtures/x402/payment-headers.json', import.meta.url), 'utf8'),
  ) as {
    vectors: Vector[];
  }
).vectors;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every path to a value inside `doc` (objects only; arrays are leaves). */
function paths(doc: Json, prefix: string[] = []): string[][] {
  return Object.entries(doc).flatMap(([k, v]) => {
    const here = [...prefix, k];
    return isObject(v) ? [here, ...paths(v, here)] : [here];
  });
}

function withValue(doc: Json, path: string[], value: unknown): Json {
  const copy = structuredClone(doc);
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Json;
  const last = path[path.length - 1]!;
  if (value === REMOVE) delete at[last];
  else at[last] = value;
  return copy;
}

const REMOVE = Symbol('remove');

/** Replacements for a field holding `v`: other types, and near misses of its own value. */
function replacements(v: unknown): unknown[] {
  const base: unknown[] = [REMOVE, null, 0, 1.5, -1, true, '', 'x', [], {}, ['0x'], { a: 1 }];
  if (typeof v === 'string') {
    base.push(
      `${v}0`,
      `${v}0`.repeat(2),
      v.slice(0, -1),
      v.slice(0, -2),
      v.toUpperCase(),
      v.replace(/^0x/, ''),
      v.replace(/^0x/, '0X'),
      ` ${v}`,
      `-${v}`,
      `+${v}`,
      `0${v}`,
      `${v}g`,
      `${v}.5`,
      `${v}e3`,
      'x'.repeat(65),
      'a'.repeat(200),
      `0x${'a'.repeat(16385)}`,
      `0x${'a'.repeat(16384)}`,
      '9'.repeat(78),
      '9'.repeat(79),
    );
  }
  if (typeof v === 'number') base.push(v + 1, String(v), 2, 3);
  return base;
}

function compare(doc: Json): void {
  const version = doc.x402Version;
  const schema = version === 1 ? paymentPayloadV1Schema : paymentPayloadV2Schema;
  const check = version === 1 ? checkPayloadV1 : checkPayloadV2;
  const reference = schema.safeParse(doc);
  const ours = check(doc);
  const label = JSON.stringify(doc).slice(0, 300);
  expect(ours.ok, label).toBe(reference.success);
  if (ours.ok && reference.success) expect(ours.value, label).toEqual(reference.data);
}

const accepted = vectors.filter((v) => v.expect.ok && isObject(v.json));

describe('checkPayloadV1 / checkPayloadV2 against the zod schemas', () => {
  it('covers both versions', () => {
    const versions = new Set(accepted.map((v) => (v.json as Json).x402Version));
    expect(versions).toEqual(new Set([1, 2]));
  });

  for (const v of accepted) {
    it(`agrees on "${v.name}" and on every mutation of its fields`, () => {
      const doc = v.json as Json;
      compare(doc);
      let cases = 0;
      for (const path of paths(doc)) {
        if (path.length === 1 && path[0] === 'x402Version') continue; // picks the check, tested in codec
        const current = path.reduce<unknown>((at, k) => (at as Json)[k], doc);
        for (const value of replacements(current)) {
          compare(withValue(doc, path, value));
          cases++;
        }
      }
      expect(cases).toBeGreaterThan(100);
    });
  }

  it('agrees on the refused golden vectors that are JSON objects of a known version', () => {
    const docs = vectors
      .filter((v) => !v.expect.ok)
      .map((v) => {
        try {
          return JSON.parse(Buffer.from(v.header, 'base64').toString('utf8')) as unknown;
        } catch {
          return undefined;
        }
      })
      .filter((d): d is Json => isObject(d) && (d.x402Version === 1 || d.x402Version === 2));
    expect(docs.length).toBeGreaterThan(20);
    for (const doc of docs) compare(doc);
  });

  it('names the failing field', () => {
    const doc = accepted.find((v) => (v.json as Json).x402Version === 2)!.json as Json;
    const r = checkPayloadV2(withValue(doc, ['payload', 'authorization', 'nonce'], '0x12'));
    expect(r).toEqual({ ok: false, detail: 'payload.authorization.nonce: expected 0x + 64 hex' });
  });
});
