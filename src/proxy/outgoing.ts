/**
 * The response side of forwarding, which the pipeline owns (it settles before the client sees a
 * byte): status, headers minus hop-by-hop ones, no upstream-forged payment headers, and no
 * upstream address in Location, Content-Location, Link or Refresh.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { namedByConnection } from './connection-header.js';
import { undoRewrite, type PathRewrite } from './path-rewrite.js';

const DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Only the gateway speaks x402 to the client: an upstream must not forge a settlement receipt.
  'payment-response',
  'x-payment-response',
  'payment-required',
]);

/**
 * Headers to send the client for an upstream response. Node re-frames the body itself
 * (chunked or Content-Length), so framing headers from the upstream are dropped.
 */
export function responseHeaders(
  headers: IncomingHttpHeaders,
  origins?: PublicOrigins,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = namedByConnection(headers.connection);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || DROP.has(name) || named?.has(name) === true) continue;
    out[name] =
      origins !== undefined && typeof value === 'string' ? publicUrls(name, value, origins) : value;
  }
  return out;
}

/** The response headers that carry URLs, each with the upstream origin rewritten. */
function publicUrls(name: string, value: string, origins: PublicOrigins): string {
  switch (name) {
    case 'location':
    case 'content-location':
      return publicLocation(value, origins);
    case 'link':
      // `<https://10.0.0.5/x>; rel="next", <…>; rel="prev"`: every target between angle brackets.
      return value.replace(/<([^>]*)>/g, (_, url: string) => `<${publicLocation(url, origins)}>`);
    case 'refresh':
      // `5; url=http://10.0.0.5/x` (quotes optional).
      return value.replace(
        /(;\s*url\s*=\s*)(['"]?)([^'"]*)\2/i,
        (_, lead: string, quote: string, url: string) =>
          `${lead}${quote}${publicLocation(url.trim(), origins)}${quote}`,
      );
    default:
      return value;
  }
}

/** Where the upstream lives and where the client reached it, for Location rewriting. */
export interface PublicOrigins {
  /** The upstream base URL (origin and optional base path), as configured. */
  readonly upstream: string;
  /** The client-facing base URL: server.publicUrl, else the client's scheme and host. */
  readonly public: string;
  /** The route's path rewrite, undone in the Location (and friends) it answers with. */
  readonly rewrite?: PathRewrite | undefined;
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

/**
 * A Location that names the upstream (`http://10.0.0.5:3000/api/v1/x`, also `//10.0.0.5:3000/…`)
 * → the same resource on the public base (`https://api.example.com/v1/x`): the upstream's base path
 * is taken off as the forwarder puts it on (nginx's `proxy_redirect default`). Relative references
 * and other origins are left as they are. Never throws: an unparseable value is kept.
 */
export function publicLocation(value: string, origins: PublicOrigins): string {
  if (!ABSOLUTE.test(value) && !value.startsWith('//')) {
    // A path-absolute reference (`/v2/items/7`) is in the upstream's path space: with a rewrite it
    // must be put back into the client's (without one it is left as it always was).
    return origins.rewrite !== undefined && value.startsWith('/')
      ? upstreamPathToPublic(value, origins)
      : value;
  }
  let target: URL;
  let url: URL;
  try {
    target = new URL(origins.upstream);
    url = new URL(value, target);
  } catch {
    return value;
  }
  if (url.origin !== target.origin) return value;
  let path = withoutBasePath(url.pathname, target);
  if (origins.rewrite !== undefined) path = undoRewrite(path, origins.rewrite);
  return origins.public.replace(/\/+$/, '') + path + url.search + url.hash;
}

function withoutBasePath(path: string, target: URL): string {
  const basePath = target.pathname.replace(/\/+$/, '');
  if (basePath !== '' && (path === basePath || path.startsWith(basePath + '/'))) {
    return path.slice(basePath.length) || '/';
  }
  return path;
}

/** `/v2/items/7?x` (the upstream's space, its base path included) → `/api/items/7?x`. */
function upstreamPathToPublic(value: string, origins: PublicOrigins): string {
  let url: URL;
  let target: URL;
  try {
    target = new URL(origins.upstream);
    url = new URL(value, target);
  } catch {
    return value;
  }
  const path = undoRewrite(withoutBasePath(url.pathname, target), origins.rewrite!);
  return path + url.search + url.hash;
}
