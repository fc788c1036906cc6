import { describe, expect, it } from 'vitest';
import {
  addressKey,
  clientAddress,
  createProxyTrust,
  normaliseAddress,
} from '../../../src/pipeline/client-address.js';
import type { ServerConfig } from '../../../src/config/index.js';

const server = (trustProxy: boolean, trustedProxies: string[] = []): ServerConfig =>
  ({ trustProxy, trustedProxies }) as unknown as ServerConfig;

describe('addressKey', () => {
  it('groups IPv6 addresses by /64, whatever their spelling', () => {
    const key = addressKey('2001:db8:0:1::1');
    expect(key).toBe('2001:db8:0:1::/64');
    expect(addressKey('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe(key);
    expect(addressKey('2001:DB8:0:1:a::2')).toBe(key);
    expect(addressKey('2001:db8:0:2::1')).not.toBe(key);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('2001:db8:1:2:3:4:1.2.3.4')).toBe('2001:db8:1:2::/64');
  });

  it('keeps IPv4 whole and reads IPv4-mapped IPv6 as IPv4', () => {
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(normaliseAddress('::FFFF:10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('clientAddress', () => {
  it('is the socket peer without trustProxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress('10.0.0.5', '198.51.100.9', createProxyTrust(server(false)))).toBe(
      '10.0.0.5',
    );
  });

  it('with trustProxy alone (one hop) is the right-most entry', () => {
    const trust = createProxyTrust(server(true));
    expect(clientAddress('10.0.0.5', '1.1.1.1, 198.51.100.9', trust)).toBe('198.51.100.9');
    expect(clientAddress('10.0.0.5', undefined, trust)).toBe('10.0.0.5');
    // A malformed entry was not written by our proxy: the peer stands.
    expect(clientAddress('10.0.0.5', 'junk', trust)).toBe('10.0.0.5');
  });

  it('with trustedProxies skips listed hops from the right and ignores an unlisted peer', () => {
    const trust = createProxyTrust(server(true, ['10.0.0.0/8', '2001:db8::/32', '192.0.2.1']));
    expect(clientAddress('10.0.0.5', '1.1.1.1, 198.51.100.9, 10.1.1.1', trust)).toBe(
      '198.51.100.9',
    );
    expect(clientAddress('::ffff:10.0.0.5', '198.51.100.9, 2001:db8::7', trust)).toBe(
      '198.51.100.9',
    );
    expect(clientAddress('192.0.2.1', '2001:db9::1', trust)).toBe('2001:db9::1');
    // Every hop ours: the left-most one is as far as we can see.
    expect(clientAddress('10.0.0.5', '10.9.9.9, 10.1.1.1', trust)).toBe('10.9.9.9');
    // The peer is not one of ours: its header is the client's own word.
    expect(clientAddress('203.0.113.7', '198.51.100.9', trust)).toBe('203.0.113.7');
    expect(trust.isProxy('192.0.2.2')).toBe(false);
  });
});
