/**
 * Request target → one canonical path, so that every spelling of a priced path (`/v1/%71uote`,
 * `/v1//quote`, `/v1/x/../quote`, `/V1/quote/`) reaches the same price, and spellings an upstream
 * might read differently from us (`%2F`, `\`, `;`, NUL, overlong UTF-8) are refused outright
 * instead of guessed at.
 *
 * Runs on every request: the common clean path is recognised by one linear scan and returned as is.
 * No regular expressions, so there is nothing to backtrack.
 */
import type { CanonicalPath } from './types.js';

const INVALID: CanonicalPath = Object.freeze({ ok: false, reason: 'invalid_path' });

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const SEMICOLON = 0x3b;
const HASH = 0x23;

/** RFC 3986 unreserved (ALPHA DIGIT - . _ ~): escapes of these are decoded. */
const UNRESERVED = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~') {
  UNRESERVED[c.charCodeAt(0)] = 1;
}

const HEX_DIGITS = '0123456789ABCDEF';

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function escapeByte(b: number): string {
  return '%' + HEX_DIGITS[b >> 4] + HEX_DIGITS[b & 15];
}

/**
 * True when `path` (starting with `/`) needs no rewriting: no `%`, `\`, `;`, `#`, control, space or
 * non-ASCII character, no `//` or `/.`, and no trailing slash. Most real requests take this path.
 */
function isAlreadyCanonical(path: string): boolean {
  const n = path.length;
  for (let i = 0; i < n; i++) {
    const c = path.charCodeAt(i);
    if (c === SLASH) {
      const next = path.charCodeAt(i + 1);
      if (next === SLASH || next === DOT) return false;
    } else if (
      c === PERCENT ||
      c === BACKSLASH ||
      c === SEMICOLON ||
      c === HASH ||
      c <= 0x20 ||
      c >= 0x7f
    ) {
      return false;
    }
  }
  return n === 1 || path.charCodeAt(n - 1) !== SLASH;
}

/**
 * Code points refused anywhere in a path, escaped or raw: invisible or direction-changing ones that
 * make two spellings look alike, and separators some upstreams strip or split on. C1 controls
 * (U+0080..U+009F), soft hyphen, zero-width space/joiners, bidi marks and embeddings/isolates, line
 * and paragraph separators, word joiner and the invisible operators, BOM (U+FEFF).
 */
function isInvisible(cp: number): boolean {
  return (
    (cp >= 0x80 && cp <= 0x9f) ||
    cp === 0xad ||
    cp === 0x61c ||
    cp === 0x180e ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x2028 && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x206f) ||
    cp === 0xfeff ||
    (cp >= 0xfff9 && cp <= 0xfffb)
  );
}

/**
 * Unicode whitespace (beyond ASCII): refused at either end of a segment, where frameworks that trim
 * would read `/v1/quote%C2%A0` as `/v1/quote`.
 */
function isUnicodeSpace(cp: number): boolean {
  return (
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

/**
 * Full canonicalisation; undefined when the path must be refused. Non-ASCII characters are taken as
 * the raw bytes node hands over in `req.url` (latin1, one char per byte) and re-emitted
 * percent-encoded, so the upstream always receives ASCII. Every byte ≥ 0x80, escaped or raw, goes
 * through one UTF-8 validator (WHATWG decoder bounds: no overlongs, surrogates or code points past
 * U+10FFFF).
 */
function canonicalizeSlow(raw: string): string | undefined {
  const segments: string[] = [];
  let seg = '';
  // UTF-8 validator state: continuation bytes still needed and the allowed range of the next one.
  let need = 0;
  let lower = 0x80;
  let upper = 0xbf;
  let cp = 0; // code point being decoded
  // Whitespace at a segment's ends (escaped: raw whitespace is refused outright): some upstreams
  // trim it, so `/v1/quote%20` would reach `/v1/quote` on a route that never matched it.
  let segStartsSpace = false;
  let lastWasSpace = false;

  let leadAt = 0; // length of `seg` before the current multi-byte character

  const endSegment = (): boolean => {
    if (lastWasSpace || segStartsSpace) return false;
    if (seg === '' || seg === '.') {
      // `//` collapses; `.` is the current directory.
    } else if (seg === '..') {
      segments.pop(); // above the root stays at the root
    } else {
      segments.push(seg);
    }
    seg = '';
    return true;
  };

  const n = raw.length;
  for (let i = 1; i < n; i++) {
    let c = raw.charCodeAt(i);
    let escaped = false;
    if (c === PERCENT) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined; // malformed escape (NaN at the end reads as -1)
      c = (hi << 4) | lo;
      i += 2;
      escaped = true;
      // Double encoding (`%2570`, `%25%37%30`): an upstream that decodes twice reads another path.
      if (c === PERCENT) {
        const next = raw.charCodeAt(i + 1);
        if (next === PERCENT || hexValue(next) >= 0) return undefined;
      }
    } else if (c > 0xff) {
      return undefined; // cannot come from node's latin1 req.url
    }

    if (c >= 0x80) {
      if (need === 0) {
        leadAt = seg.length;
        if (c >= 0xc2 && c <= 0xdf) {
          need = 1;
          cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
          need = 2;
          cp = c & 0x0f;
          if (c === 0xe0) lower = 0xa0; // overlong 3-byte forms
          if (c === 0xed) upper = 0x9f; // UTF-16 surrogates
        } else if (c >= 0xf0 && c <= 0xf4) {
          need = 3;
          cp = c & 0x07;
          if (c === 0xf0) lower = 0x90; // overlong 4-byte forms
          if (c === 0xf4) upper = 0x8f; // past U+10FFFF
        } else {
          return undefined; // stray continuation byte, C0/C1 overlong lead, or F5..FF
        }
      } else {
        if (c < lower || c > upper) return undefined;
        lower = 0x80;
        upper = 0xbf;
        need--;
        cp = (cp << 6) | (c & 0x3f);
        if (need === 0) {
          if (isInvisible(cp)) return undefined;
          const space = isUnicodeSpace(cp);
          if (space && leadAt === 0) segStartsSpace = true;
          seg += escapeByte(c);
          lastWasSpace = space;
          continue;
        }
      }
      seg += escapeByte(c);
      continue;
    }
    if (need !== 0) return undefined; // truncated multi-byte sequence

    if (escaped) {
      // Encoded separators would be read as separators by some upstreams and not by others; an
      // encoded control character (CR, LF, TAB, NUL, DEL…) has no business in a path.
      if (c === SLASH || c === BACKSLASH || c === SEMICOLON || c < 0x20 || c === 0x7f) {
        return undefined;
      }
      const space = c === 0x20;
      if (space && seg === '') segStartsSpace = true;
      seg += UNRESERVED[c] === 1 ? String.fromCharCode(c) : escapeByte(c);
      lastWasSpace = space;
      continue;
    } else if (c === SLASH) {
      if (!endSegment()) return undefined;
    } else if (c === BACKSLASH || c === SEMICOLON || c === HASH || c <= 0x20 || c === 0x7f) {
      return undefined;
    } else {
      seg += raw[i] as string;
    }
    lastWasSpace = false;
  }
  if (need !== 0) return undefined;
  if (!endSegment()) return undefined;
  return '/' + segments.join('/');
}

/**
 * `http://host/path` or `https://host/path` (absolute-form, RFC 9112 §3.2.2) → `/path`; else
 * undefined.
 */
function stripAbsoluteForm(target: string): string | undefined {
  const lowered = target.slice(0, 8).toLowerCase();
  const schemeEnd = lowered.startsWith('http://') ? 7 : lowered.startsWith('https://') ? 8 : -1;
  if (schemeEnd === -1) return undefined;
  const slash = target.indexOf('/', schemeEnd);
  return slash === -1 ? '/' : target.slice(slash);
}

/**
 * Canonicalise node's `req.url` (origin-form `/path?query`, or absolute-form
 * `http://host/path?query`).
 *
 * - The query (from the first `?`) is kept raw in `search` and never touched.
 * - Escapes of unreserved characters are decoded before dot segments are resolved (`%2e%2e` is
 *   `..`); other escapes are kept with upper-case hex.
 * - Refused (`invalid_path`): `#`, `\` or `;` raw or encoded, `%2F`, control characters raw or
 *   encoded (`%00`..`%1F`, `%7F`, C1), whitespace at either end of a segment (`%20`, `%C2%A0`…),
 *   invisible and bidi code points (zero-width space, BOM, RLO…), double encoding (`%25` then a
 *   hex digit or `%`), malformed escapes, invalid UTF-8, and targets that are neither origin- nor
 *   absolute-form (`*`).
 * - `//` collapses, `.`/`..` resolve (never above the root), the trailing slash goes (except for
 *   `/`).
 * - `path` keeps its case (the upstream receives it); `matchKey` is `path` lower-cased (routes
 *   match on it).
 */
export function canonicalizeTarget(url: string): CanonicalPath {
  const q = url.indexOf('?');
  let raw = q === -1 ? url : url.slice(0, q);
  const search = q === -1 ? '' : url.slice(q);
  if (raw.charCodeAt(0) !== SLASH) {
    const stripped = stripAbsoluteForm(raw);
    if (stripped === undefined) return INVALID;
    raw = stripped;
  }
  let path: string | undefined = raw;
  if (!isAlreadyCanonical(raw)) {
    path = canonicalizeSlow(raw);
    if (path === undefined) return INVALID;
  }
  return { ok: true, path, matchKey: path.toLowerCase(), search };
}
