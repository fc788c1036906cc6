/**
 * Route keys (`"GET /v1/items/:id"`, `"/v1/search/*"`) → method + segments + shape. Config
 * validation and the price table both use this one parser, so "these two routes tie" is decided by
 * exactly the logic that matches.
 */

/** Methods a route key may name. HEAD is priced as GET, so it can't be named on its own. */
export const ROUTE_METHODS: readonly string[] = Object.freeze([
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

/**
 * One segment of a route pattern. Literals are stored lower-cased: matching runs on the lower-cased
 * path.
 */
export type RouteSegment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

export interface ParsedRoutePattern {
  readonly segments: readonly RouteSegment[];
  /**
   * Path shape used for tie detection: literals lower-cased, every param `:`, the wildcard `*`
   * (`/v1/items/:id` and `/V1/items/:key` share the shape `/v1/items/:`).
   */
  readonly shape: string;
}

export interface ParsedRouteKey extends ParsedRoutePattern {
  /** Upper-case method, or null for any method. */
  readonly method: string | null;
  /** The path part as written. */
  readonly pattern: string;
  /** `${method ?? '*'} ${shape}`: two routes with the same tieKey can never be told apart. */
  readonly tieKey: string;
}

export type RouteKeyParse<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/**
 * Characters a literal segment may hold: what a canonical path can carry unencoded (RFC 3986
 * unreserved plus sub-delims) minus `;` (canonicalisation rejects it) and `*` (the wildcard). `%`
 * is absent on purpose: canonical paths decode unreserved escapes, so an escape in a pattern would
 * either be redundant or never match.
 */
const LITERAL_CHARS = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()+,=") {
  LITERAL_CHARS[c.charCodeAt(0)] = 1;
}

function isParamName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * Parse a path pattern: leading `/`, segments that are literals, `:name` params, or `*` as the
 * whole last segment (matching the prefix itself and everything below it). One trailing slash is
 * ignored.
 */
export function parseRoutePattern(pattern: string): RouteKeyParse<ParsedRoutePattern> {
  if (!pattern.startsWith('/')) return { ok: false, message: 'path must start with "/"' };
  let body = pattern.slice(1);
  if (body.endsWith('/')) body = body.slice(0, -1);
  const parts = body === '' ? [] : body.split('/');
  const segments: RouteSegment[] = [];
  const names = new Set<string>();
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part === '') return { ok: false, message: 'path has an empty segment ("//")' };
    if (part === '*') {
      if (i !== parts.length - 1) {
        return { ok: false, message: '"*" is only allowed as the whole last segment' };
      }
      segments.push({ kind: 'wildcard' });
      continue;
    }
    if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!isParamName(name)) {
        return {
          ok: false,
          message: `param "${part}" must be ":" followed by a name of letters, digits and "_"`,
        };
      }
      if (names.has(name)) return { ok: false, message: `param ":${name}" appears twice` };
      names.add(name);
      segments.push({ kind: 'param', name });
      continue;
    }
    if (part === '.' || part === '..') {
      return { ok: false, message: `segment "${part}" never appears in a canonical path` };
    }
    for (let j = 0; j < part.length; j++) {
      const c = part.charCodeAt(j);
      if (c >= 128 || LITERAL_CHARS[c] !== 1) {
        const ch = part[j] as string;
        const why =
          ch === '*'
            ? '"*" is only allowed as the whole last segment'
            : ch === ':'
              ? '":" may only start a param segment'
              : `character ${JSON.stringify(ch)} is not allowed in a literal segment ` +
                "(allowed: letters, digits and -._~!$&'()+,=)";
        return { ok: false, message: why };
      }
    }
    segments.push({ kind: 'literal', value: part.toLowerCase() });
  }
  const shape =
    '/' +
    segments
      .map((s) => (s.kind === 'literal' ? s.value : s.kind === 'param' ? ':' : '*'))
      .join('/');
  return { ok: true, value: { segments, shape } };
}

/** Parse a route key: `"METHOD /path"` (one space) or `"/path"` for any method. */
export function parseRouteKey(key: string): RouteKeyParse<ParsedRouteKey> {
  let method: string | null = null;
  let pattern = key;
  if (!key.startsWith('/')) {
    const space = key.indexOf(' ');
    if (space === -1) {
      return { ok: false, message: 'route key must be "METHOD /path" or "/path"' };
    }
    const word = key.slice(0, space);
    pattern = key.slice(space + 1);
    if (word === 'HEAD') {
      return {
        ok: false,
        message: 'HEAD cannot be priced on its own: HEAD requests are priced as GET',
      };
    }
    if (!ROUTE_METHODS.includes(word)) {
      return {
        ok: false,
        message: `method "${word}" is not one of ${ROUTE_METHODS.join(', ')} (upper case)`,
      };
    }
    method = word;
  }
  const parsed = parseRoutePattern(pattern);
  if (!parsed.ok) return parsed;
  return {
    ok: true,
    value: { ...parsed.value, method, pattern, tieKey: `${method ?? '*'} ${parsed.value.shape}` },
  };
}
