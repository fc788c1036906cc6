import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hostAndPort, tcpConnect } from '../../../src/proxy/upstream-probe.js';

describe('tcpConnect', () => {
  it('connects to a listening port, and names the error of a closed one', async () => {
    const server = http.createServer((_req, res) => res.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    expect(await tcpConnect('127.0.0.1', port, 1_000)).toBeUndefined();
    await new Promise<void>((r) => server.close(() => r()));
    expect(await tcpConnect('127.0.0.1', port, 1_000)).toBe('ECONNREFUSED');
  });
});

describe('hostAndPort', () => {
  it('takes the default port of the scheme and drops IPv6 brackets', () => {
    expect(hostAndPort('https://legacy.internal/api')).toEqual({
      host: 'legacy.internal',
      port: 443,
    });
    expect(hostAndPort('http://[::1]:3000')).toEqual({ host: '::1', port: 3000 });
    expect(hostAndPort('http://10.0.0.5')).toEqual({ host: '10.0.0.5', port: 80 });
  });
});
