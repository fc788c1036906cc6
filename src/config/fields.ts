/**
 * Zod field types shared by the config schemas: each one validates and normalises a single scalar
 * (host:port → HostPort, URL → string without trailing slash, address → EIP-55, network name →
 * NetworkInfo).
 */
import { isIP } from 'node:net';
import { getAddress, type Address } from 'viem';
import { z } from 'zod';
import { findNetwork, NETWORKS, type NetworkInfo } from '../chains/index.js';
import type { HostPort } from './types.js';

/** A positive integer in `unit` (ms, bytes, …); the unit is named in the message. */
export function positiveInt(unit: string): z.ZodNumber {
  const message = `must be a positive integer (${unit})`;
  return z.number({ invalid_type_error: message }).int(message).positive(message).safe(message);
}

/** A fraction in (0, 1], e.g. 0.25. */
export const share = z
  .number({ invalid_type_error: 'must be a number above 0 and at most 1, e.g. 0.25' })
  .gt(0, 'must be a number above 0 and at most 1, e.g. 0.25')
  .lte(1, 'must be a number above 0 and at most 1, e.g. 0.25');

/** An IPv4 or IPv6 CIDR (`10.0.0.0/8`, `fd00::/8`) or a single address (a /32 or /128). */
export const cidr = z.string({ invalid_type_error: 'must be a CIDR string' }).refine(
  (text) => {
    const slash = text.indexOf('/');
    const ip = slash === -1 ? text : text.slice(0, slash);
    const family = isIP(ip);
    if (family === 0) return false;
    if (slash === -1) return true;
    const bits = text.slice(slash + 1);
    return /^[0-9]{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
  },
  (text) => ({ message: `"${String(text)}" is not a CIDR, e.g. 10.0.0.0/8 or fd00::/8` }),
);

function custom(ctx: z.RefinementCtx, message: string): typeof z.NEVER {
  ctx.addIssue({ code: z.ZodIssueCode.custom, message });
  return z.NEVER;
}

/**
 * Parse `host:port` or `[v6]:port`; the host is returned without brackets (what `server.listen`
 * takes).
 */
export function parseHostPort(text: string): HostPort | string {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1 || text[close + 1] !== ':') return 'must be host:port or [ipv6]:port';
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!/^[0-9A-Fa-f:.]+$/.test(host) || !host.includes(':')) {
      return `"[${host}]" is not an IPv6 address`;
    }
  } else {
    const colon = text.lastIndexOf(':');
    if (colon === -1) return 'must be host:port, e.g. 0.0.0.0:8402';
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return 'an IPv6 host must be in brackets, e.g. [::1]:8402';
    if (!/^[A-Za-z0-9.-]+$/.test(host)) return `"${host}" is not a valid host name or IPv4 address`;
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    return `port "${portText}" must be an integer from 0 to 65535`;
  }
  return { host, port: Number(portText) };
}

export const hostPort = z
  .string({ invalid_type_error: 'must be a "host:port" string' })
  .transform((text, ctx): HostPort => {
    const parsed = parseHostPort(text);
    return typeof parsed === 'string' ? custom(ctx, parsed) : parsed;
  });

function stripTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x2f) end--;
  return text.slice(0, end);
}

/** http(s) URL without query or fragment, returned normalised and without a trailing slash. */
export const httpUrl = z
  .string({ invalid_type_error: 'must be an http(s) URL string' })
  .transform((text, ctx): string => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return custom(ctx, `"${text}" is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return custom(ctx, `must be an http or https URL, got "${url.protocol}"`);
    }
    if (url.search !== '' || url.hash !== '' || text.includes('?') || text.includes('#')) {
      return custom(ctx, 'must not have a query or fragment');
    }
    return stripTrailingSlashes(url.href);
  });

const ADDRESS_SHAPE = /^0x[0-9a-fA-F]{40}$/;
const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';

/**
 * An EVM address, returned EIP-55 checksummed. All-lower or all-upper case is accepted as is; mixed
 * case must be a correct checksum (a wrong one is most likely a typo). The zero address is refused:
 * money sent there is burned.
 */
export const address = z
  .string({
    invalid_type_error:
      'must be a quoted "0x…" address string (YAML reads an unquoted 0x… as a number)',
  })
  .transform((text, ctx): Address => {
    if (!ADDRESS_SHAPE.test(text)) {
      return custom(ctx, `"${text}" is not an address: expected 0x followed by 40 hex digits`);
    }
    const hex = text.slice(2);
    const checksummed = getAddress(text);
    if (hex !== hex.toLowerCase() && hex !== hex.toUpperCase() && checksummed !== text) {
      return custom(ctx, `"${text}" has a wrong EIP-55 checksum (mixed case that does not match)`);
    }
    if (checksummed === ZERO_ADDRESS) return custom(ctx, 'must not be the zero address');
    return checksummed;
  });

const NETWORK_NAMES = NETWORKS.map((n) => n.v1Name).join(', ');

/** A network by v1 name (`base-sepolia`) or CAIP-2 id (`eip155:84532`). */
export const network = z
  .string({ invalid_type_error: 'must be a network name such as "base" or "eip155:8453"' })
  .transform((name, ctx): NetworkInfo => {
    const found = findNetwork(name);
    return (
      found ??
      custom(ctx, `unknown network "${name}"; known: ${NETWORK_NAMES} (or their eip155:<chainId>)`)
    );
  });
