import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicClient, HttpRequestError, TimeoutError } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeepAliveTransport } from '../../../src/facilitator/rpc-transport.js';
import { findTransportFailure } from '../../../src/facilitator/signer.js';

/** Loopback JSON-RPC endpoint with scripted behaviours per method. */
let server: http.Server;
let url: string;
const sockets = new Set<unknown>();
beforeAll(async () => {
  server = http.createServer((req, res) => {
    sockets.add(req.socket);
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const { id, method } = JSON.parse(body) as { id: number; method: string };
      const json = (o: unknown, status = 200) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(o));
      };
      if (method === 'eth_chainId') return json({ jsonrpc: '2.0', id, result: '0x14a34' });
      if (method === 'eth_blockNumber')
        return json({ jsonrpc: '2.0', id, error: { code: -32000, message: 'header not found' } });
      if (method === 'eth_gasPrice') return json({ oops: true }, 502);
      if (method === 'eth_syncing') return; // never answers
      return json({ jsonrpc: '2.0', id, error: { code: -32601, message: 'method not found' } });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('keep-alive JSON-RPC transport', () => {
  it('returns results and reuses one socket for sequential calls', async () => {
    const t = createKeepAliveTransport(url);
    const client = createPublicClient({ transport: t.transport });
    sockets.clear();
    for (let i = 0; i < 5; i++) expect(await client.getChainId()).toBe(84532);
    expect(sockets.size).toBe(1);
    t.close();
  });

  it('maps JSON-RPC errors, HTTP errors and deadlines to viem errors (transport failures classified)', async () => {
    const t = createKeepAliveTransport(url, { timeoutMs: 300 });
    const client = createPublicClient({ transport: t.transport });
    const rpcErr = await client.getBlockNumber().catch((e: unknown) => e);
    expect(String((rpcErr as Error).message)).toMatch(/header not found/);
    expect(findTransportFailure(rpcErr)).toBeUndefined();

    const httpErr = await client.getGasPrice().catch((e: unknown) => e);
    expect(httpErr).toBeInstanceOf(HttpRequestError);
    expect(findTransportFailure(httpErr)).toMatchObject({ failure: 'http_error' });

    const slow = await client
      .request({ method: 'eth_syncing' as 'eth_chainId' })
      .catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(TimeoutError);
    expect(findTransportFailure(slow)).toMatchObject({ failure: 'timeout' });
    t.close();

    const dead = createKeepAliveTransport('http://127.0.0.1:1');
    const refused = await createPublicClient({ transport: dead.transport })
      .getChainId()
      .catch((e: unknown) => e);
    expect(findTransportFailure(refused)).toMatchObject({ failure: 'network' });
    dead.close();
  });
});
