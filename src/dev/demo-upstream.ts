/**
 * A small demo API for `npm start`: a few JSON endpoints the dev config prices differently, one free.
 * It knows nothing about payments; it only reads the X-Payment-* headers the gateway adds.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenError } from '../lib/index.js';

const QUOTES: Record<string, string> = { ETH: '3120.55', BTC: '97000.10', USDC: '1.00' };

export async function startDemoUpstream(
  port: number,
  host = '127.0.0.1',
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const paidBy = req.headers['x-payment-payer'];
    if (url.pathname === '/v1/health') return json(200, { status: 'ok' });
    if (url.pathname === '/v1/quote') {
      const sym = (url.searchParams.get('sym') ?? 'ETH').toUpperCase();
      const price = QUOTES[sym];
      return price === undefined
        ? json(404, { error: `unknown symbol ${sym}` })
        : json(200, { sym, price, paidBy });
    }
    if (url.pathname.startsWith('/v1/items/')) {
      return json(200, {
        id: decodeURIComponent(url.pathname.slice('/v1/items/'.length)),
        name: 'demo item',
        paidBy,
      });
    }
    if (url.pathname === '/v1/vision' && req.method === 'POST') {
      let size = 0;
      req.on('data', (c: Buffer) => (size += c.length));
      req.on('end', () => json(200, { labels: ['cat', 'sofa'], bytes: size, paidBy }));
      return;
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(listenError(err, host, port, 'the demo upstream, dev --upstream-port')),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
