/**
 * Type guards for decoded JSON at trust boundaries (payment headers, facilitator replies and
 * requests), shared so every boundary means the same thing by "an object".
 */

/** A JSON object: not null, not an array. */
export function isJsonObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field that may be absent, `null` or a string (some peers send `null` for absent). */
export function isOptionalString(value: unknown): value is string | null | undefined {
  return value === undefined || value === null || typeof value === 'string';
}

/** `T` without `readonly`: to build a value field by field before handing it out as `T`. */
export type Writable<T> = { -readonly [K in keyof T]: T[K] };
