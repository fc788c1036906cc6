/**
 * A route's path rewrite (`rewrite: { prefix: /api, replace: /v2 }`): the upstream sees
 * `/v2/items` for the client's `/api/items`, and a Location it answers with (`/v2/items/7`) is
 * turned back into the client's space (`/api/items/7`).
 */

export interface PathRewrite {
  /** Whole leading segments, no trailing slash: `/api`. */
  readonly prefix: string;
  /** What the upstream sees instead: `/v2`, or '' to strip the prefix. */
  readonly replace: string;
}

/** Does `path` start with the whole segments `prefix` (case-insensitive, as routes match)? */
function leads(path: string, prefix: string): boolean {
  const n = prefix.length;
  if (path.length < n) return false;
  if (path.length > n && path.charCodeAt(n) !== 0x2f) return false;
  return path.startsWith(prefix) || path.slice(0, n).toLowerCase() === prefix.toLowerCase();
}

/** The path the upstream sees; a path the prefix does not lead is left as it is. */
export function rewritePath(path: string, rewrite: PathRewrite): string {
  if (!leads(path, rewrite.prefix)) return path;
  const rest = path.slice(rewrite.prefix.length);
  const out = rewrite.replace + rest;
  return out === '' ? '/' : out;
}

/**
 * The client's path for a path in the upstream's space: `replace` put back to `prefix` (a stripped
 * prefix is put back in front). A path outside `replace` is left as it is.
 */
export function undoRewrite(path: string, rewrite: PathRewrite): string {
  if (rewrite.replace === '') return rewrite.prefix + path;
  if (!leads(path, rewrite.replace)) return path;
  return rewrite.prefix + path.slice(rewrite.replace.length);
}
