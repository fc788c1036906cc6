/**
 * The header names a `Connection` header lists (RFC 9110 §7.6.1): hop-by-hop for this connection
 * only, so a proxy drops them as well as the header itself.
 */

/**
 * The names listed in `value`, in lower case; undefined when it names none beyond the options
 * every HTTP/1.1 peer sends (`keep-alive`, `close`), which is nearly every message: no Set built.
 */
export function namedByConnection(value: string | undefined): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const lower = value.length <= 10 ? value.toLowerCase() : '';
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return new Set(value.split(',').map((name) => name.trim().toLowerCase()));
}
