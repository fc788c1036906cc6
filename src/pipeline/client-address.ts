/**
 * Who is asking: the client address that per-client shares count. The socket peer, unless the peer
 * is a proxy we trust; then the right-most X-Forwarded-For entry that is not one of our proxies
 * (entries to its left are whatever the client wrote, so they are never believed). An address is
 * counted by its key: IPv4 as is, IPv6 by its /64, since one host usually holds a whole /64.
 */
import { BlockList, isIP } from 'node:net';
import type { ServerConfig } from '../config/index.js';

/** Which socket peers and X-Forwarded-For hops are our own proxies. */
export interface ProxyTrust {
  /** X-Forwarded-For is read at all (server.trustProxy). */
  readonly enabled: boolean;
  /** Is this (normalised) socket peer one of our proxies? */
  isProxy(address: string): boolean;
  /** Is this (normalised) X-Forwarded-For entry one of our proxies, to be skipped? */
  isProxyHop(address: string): boolean;
}

export function createProxyTrust(server: ServerConfig): ProxyTrust {
  const never = (): boolean => false;
  if (!server.trustProxy) return { enabled: false, isProxy: never, isProxyHop: never };
  // trustProxy without a list: one hop, the socket peer, whatever its address; the entry it
  // appended (the right-most) is the client.
  if (server.trustedProxies.length === 0)
    return { enabled: true, isProxy: () => true, isProxyHop: never };
  const list = new BlockList();
  for (const cidr of server.trustedProxies) {
    const slash = cidr.indexOf('/');
    const ip = normaliseAddress(slash === -1 ? cidr : cidr.slice(0, slash));
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    const bits = slash === -1 ? (family === 'ipv6' ? 128 : 32) : Number(cidr.slice(slash + 1));
    list.addSubnet(ip, bits, family);
  }
  const listed = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
  return { enabled: true, isProxy: listed, isProxyHop: listed };
}

/**
 * The client's address for a request from `peer` (the socket's remote address) carrying
 * `forwardedFor` (the X-Forwarded-For header), normalised (see normaliseAddress). Falls back to the
 * peer when the peer is not a trusted proxy, or the header has no usable entry.
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | undefined,
  trust: ProxyTrust,
): string {
  const from = normaliseAddress(peer);
  if (!trust.enabled || forwardedFor === undefined || !trust.isProxy(from)) return from;
  const hops = forwardedFor.split(',');
  let client = from;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normaliseAddress(hops[i]!.trim());
    // A malformed entry was not written by a proxy of ours: stop at the last good one.
    if (isIP(hop) === 0) break;
    client = hop;
    if (!trust.isProxyHop(hop)) break;
  }
  return client;
}

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack listener reports) → the IPv4 address. */
export function normaliseAddress(address: string): string {
  if (address.length > 7 && address.charCodeAt(0) === 58 /* : */) {
    const lower = address.toLowerCase();
    if (lower.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  }
  return address;
}

/** The key shares are counted under: IPv4 as is, IPv6 by its /64 prefix (`2001:db8:0:1::/64`). */
export function addressKey(address: string): string {
  const normal = normaliseAddress(address);
  if (!normal.includes(':')) return normal;
  return ipv6Prefix64(normal) ?? normal;
}

/** The first four groups of an IPv6 address, zero-expanded and without leading zeros; undefined if not IPv6. */
function ipv6Prefix64(address: string): string | undefined {
  const zone = address.indexOf('%');
  const ip = zone === -1 ? address : address.slice(0, zone);
  if (isIP(ip) !== 6) return undefined;
  const gap = ip.indexOf('::');
  const head = gap === -1 ? ip.split(':') : ip.slice(0, gap).split(':').filter(Boolean);
  const tail =
    gap === -1
      ? []
      : ip
          .slice(gap + 2)
          .split(':')
          .filter(Boolean);
  // A dotted IPv4 tail fills two groups.
  const width = (groups: string[]): number =>
    groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = [...head, ...Array<string>(8 - width(head) - width(tail)).fill('0'), ...tail];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
