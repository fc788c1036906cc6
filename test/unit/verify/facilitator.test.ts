/**
 * HttpFacilitatorClient against a scripted loopback server (127.0.0.1, port 0): wire format, status
 * classification, size cap, deadlines and stale keep-alive sockets. The client IS the I/O seam, so
 * its unit tests need a socket; the full facilitator is exercised in test/integration.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HttpFacilitatorClient,
  MAX_REPLY_BYTES,
  type HttpFacilitatorOptions,
} from '../../../src/verify/facilitator.js';
import type { FacilitatorRequest } from '../../../src/verify/types.js';
import { exampleRequirementV2 } from '../../helpers/payments.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  socketRequestIndex: number;
  socket: Socket;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void;

interface Scripted {
  url: string;
  seen: Seen[];
  openSockets: () => number;
  close: () => Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function scripted(handler: Handler): Promise<Scripted> {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const perSocket = new WeakMap<Socket, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const index = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, index);
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        socketRequestIndex: index,
        socket: req.socket,
      };
      seen.push(s);
      handler(req, res, s);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    const done = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await done;
  };
  cleanups.push(close);
  return { url: `http://127.0.0.1:${port}`, seen, openSockets: () => sockets.size, close };
}

function client(url: string, overrides: Partial<HttpFacilitatorOptions> = {}) {
  const c = new HttpFacilitatorClient({
    url,
    verifyTimeoutMs: 1_000,
    settleTimeoutMs: 1_000,
    supportedTimeoutMs: 1_000,
    headers: {},
    maxSockets: 4,
    ...overrides,
  });
  cleanups.push(() => c.close());
  return c;
}

function reply(res: http.ServerResponse, status: number, body: unknown, type = 'application/json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const NEGATIVE = { isValid: false, invalidReason: 'x' };

const REQUEST: FacilitatorRequest = {
  x402Version: 2,
  paymentPayload: { x402Version: 2, accepted: {}, payload: {} },
  paymentRequirements: exampleRequirementV2(),
};

describe('HttpFacilitatorClient wire format', () => {
  it('posts the JSON request to <base path>/verify with length, type and headers', async () => {
    const srv = await scripted((_q, res) => reply(res, 200, { isValid: true, payer: '0xabc' }));
    const c = client(`${srv.url}/platform/v2/x402//`, { headers: { authorization: 'Bearer t' } });
    const r = await c.verify(REQUEST);
    expect(r).toEqual({ kind: 'ok', value: { isValid: true, payer: '0xabc' }, status: 200 });
    const s = srv.seen[0]!;
    expect(s.method).toBe('POST');
    expect(s.url).toBe('/platform/v2/x402/verify');
    expect(s.headers['content-type']).toBe('application/json');
    expect(Number(s.headers['content-length'])).toBe(Buffer.byteLength(s.body));
    expect(s.headers.authorization).toBe('Bearer t');
    expect(JSON.parse(s.body)).toEqual(REQUEST);
  });

  it('sends exactly JSON.stringify(request), also for requests that share one requirements object', async () => {
    const srv = await scripted((_q, res) => reply(res, 200, { isValid: true }));
    const c = client(srv.url);
    const shared = exampleRequirementV2();
    const first: FacilitatorRequest = {
      x402Version: 2,
      paymentPayload: { n: 1, s: 'a"\\\u2028' },
      paymentRequirements: shared,
    };
    const second: FacilitatorRequest = {
      x402Version: 2,
      paymentPayload: { n: 2 },
      paymentRequirements: shared,
    };
    const v1: FacilitatorRequest = {
      x402Version: 1,
      paymentPayload: { x402Version: 1 },
      paymentRequirements: {
        scheme: 'exact',
        network: 'base-sepolia',
        maxAmountRequired: '1000',
        resource: 'http://h/a',
        description: '',
        mimeType: 'application/json',
        payTo: '0x2222222222222222222222222222222222222222',
        maxTimeoutSeconds: 60,
        asset: '0x3333333333333333333333333333333333333333',
        extra: { name: 'USDC', version: '2' },
      },
    };
    for (const r of [first, second, first, v1]) await c.verify(r);
    expect(srv.seen.map((x) => x.body)).toEqual(
      [first, second, first, v1].map((r) => JSON.stringify(r)),
    );
  });

  it('posts settle to /settle and gets supported with GET /supported', async () => {
    const srv = await scripted((q, res) =>
      q.url === '/settle'
        ? reply(res, 200, { success: true, transaction: '0x1', network: 'eip155:84532' })
        : reply(res, 200, { kinds: [{ x402Version: 1, scheme: 'exact', network: 'base' }] }),
    );
    const c = client(srv.url);
    expect((await c.settle(REQUEST)).kind).toBe('ok');
    expect(await c.supported()).toEqual({
      kind: 'ok',
      value: { kinds: [{ x402Version: 1, scheme: 'exact', network: 'base' }] },
      status: 200,
    });
    expect(srv.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /settle', 'GET /supported']);
    expect(srv.seen[1]!.headers['content-length']).toBeUndefined();
  });

  it('sends credentials in the URL as Basic auth', async () => {
    const srv = await scripted((_q, res) => reply(res, 200, { isValid: true }));
    const c = client(srv.url.replace('http://', 'http://user:p%40ss@'));
    expect((await c.verify(REQUEST)).kind).toBe('ok');
    expect(srv.seen[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    );
  });

  it('refuses a non-http url and an invalid static header at construction', () => {
    expect(() => client('ftp://example.com')).toThrow(TypeError);
    expect(() => client('http://127.0.0.1:1', { headers: { 'bad header': 'x' } })).toThrow();
  });
});

describe('HttpFacilitatorClient status classification', () => {
  it('reads a structured negative verify answer with HTTP 400 as ok', async () => {
    const srv = await scripted((_q, res) => reply(res, 400, NEGATIVE));
    expect(await client(srv.url).verify(REQUEST)).toEqual({
      kind: 'ok',
      value: NEGATIVE,
      status: 400,
    });
  });

  it('reads a verify 5xx as unavailable even when the body is structured', async () => {
    const srv = await scripted((_q, res) => reply(res, 503, NEGATIVE));
    const r = await client(srv.url).verify(REQUEST);
    expect(r).toMatchObject({ kind: 'unavailable', failure: 'http_error', status: 503 });
  });

  it('reads a structured settle answer with HTTP 500 as ok (settlement_pending)', async () => {
    const body = {
      success: false,
      errorReason: 'settlement_pending',
      transaction: '0x1',
      network: 'base',
    };
    const srv = await scripted((_q, res) => reply(res, 500, body));
    expect(await client(srv.url).settle(REQUEST)).toEqual({ kind: 'ok', value: body, status: 500 });
  });

  it('reads an unstructured non-2xx body as http_error and a 2xx one as bad_response', async () => {
    let status = 502;
    const srv = await scripted((_q, res) => reply(res, status, '<html>oops</html>', 'text/html'));
    const c = client(srv.url);
    expect(await c.settle(REQUEST)).toMatchObject({
      kind: 'unavailable',
      failure: 'http_error',
      status: 502,
    });
    status = 200;
    expect(await c.settle(REQUEST)).toMatchObject({
      kind: 'unavailable',
      failure: 'bad_response',
      status: 200,
    });
    expect(await c.supported()).toMatchObject({ kind: 'unavailable', failure: 'bad_response' });
  });

  it('gives a short compacted detail, never the whole body', async () => {
    const big = `start   ${'x'.repeat(10_000)}\n\nend`;
    const srv = await scripted((_q, res) => reply(res, 500, big, 'text/plain'));
    const r = await client(srv.url).settle(REQUEST);
    expect(r.kind).toBe('unavailable');
    if (r.kind !== 'unavailable') return;
    expect(r.detail.length).toBeLessThanOrEqual(200);
    expect(r.detail).toContain('settle: HTTP 500: start x');
    expect(r.detail).not.toContain('end');
  });

  it('refuses a reply larger than the cap as bad_response', async () => {
    const srv = await scripted((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length up front
      res.end(`{"isValid":true,"pad":"${'x'.repeat(MAX_REPLY_BYTES)}"}`);
    });
    const r = await client(srv.url).verify(REQUEST);
    expect(r).toMatchObject({ kind: 'unavailable', failure: 'bad_response' });
  });
});

describe('HttpFacilitatorClient deadlines and sockets', () => {
  it('times out when the body does not end within the deadline, and drops that socket', async () => {
    const srv = await scripted((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"isValid":'); // headers arrived, body never ends
    });
    const c = client(srv.url, { verifyTimeoutMs: 150 });
    const started = performance.now();
    const r = await c.verify(REQUEST);
    const elapsed = performance.now() - started;
    expect(r).toMatchObject({ kind: 'unavailable', failure: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1_000);
    // The socket that carried the late reply is closed: nothing can land on it when it is reused.
    // (undici may open a fresh idle one meanwhile; it closes on the keep-alive timeout.)
    await expect.poll(() => srv.seen[0]!.socket.destroyed, { timeout: 1_000 }).toBe(true);
  });

  it('settle({timeoutMs}) shortens the deadline (a retry gets what the phase left), never lengthens it', async () => {
    const srv = await scripted(() => undefined); // never answers
    const c = client(srv.url, { settleTimeoutMs: 400 });
    let started = performance.now();
    expect(await c.settle(REQUEST, { timeoutMs: 100 })).toMatchObject({
      kind: 'unavailable',
      failure: 'timeout',
      detail: 'settle: no complete reply within 100 ms',
    });
    expect(performance.now() - started).toBeLessThan(350);
    started = performance.now();
    const longer = await c.settle(REQUEST, { timeoutMs: 5_000 });
    expect(longer).toMatchObject({
      failure: 'timeout',
      detail: 'settle: no complete reply within 400 ms',
    });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('times out a call still queued for a socket, and never sends it afterwards', async () => {
    const srv = await scripted(() => undefined); // never answers
    // The settle's deadline falls well before the verify's, so it expires while still queued. (With
    // equal deadlines the verify's could free the socket first, and a settle still inside its own
    // deadline is rightly sent.)
    const c = client(srv.url, { maxSockets: 1, verifyTimeoutMs: 1_200, settleTimeoutMs: 300 });
    const first = c.verify(REQUEST); // holds the only socket
    const started = performance.now();
    const second = await c.settle(REQUEST);
    expect(second).toMatchObject({ kind: 'unavailable', failure: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await first).toMatchObject({ kind: 'unavailable', failure: 'timeout' });
    await new Promise((r) => setTimeout(r, 300));
    // The settle never reached the server. (The verify may have been sent twice: it is retried
    // once on a socket error before any answer, and is free of side effects.)
    const urls = srv.seen.map((x) => x.url);
    expect(urls).toContain('/verify');
    expect(urls).not.toContain('/settle');
  });

  it('reports a refused connection as network', async () => {
    const srv = await scripted(() => undefined);
    await srv.close();
    const r = await client(srv.url).verify(REQUEST);
    expect(r).toMatchObject({ kind: 'unavailable', failure: 'network' });
  });

  it('retries verify once when a reused keep-alive socket turns out to be closed', async () => {
    const srv = await scripted((q, res, s) => {
      if (s.socketRequestIndex === 2)
        q.socket.destroy(); // server dropped the idle socket
      else reply(res, 200, { isValid: true });
    });
    const c = client(srv.url, { maxSockets: 1 });
    expect((await c.verify(REQUEST)).kind).toBe('ok');
    expect((await c.verify(REQUEST)).kind).toBe('ok');
    expect(srv.seen).toHaveLength(3);
  });

  it('does not retry settle on a reused socket that was closed', async () => {
    const srv = await scripted((q, res, s) => {
      if (s.socketRequestIndex === 2) q.socket.destroy();
      else reply(res, 200, { success: true, transaction: '0x1', network: 'base' });
    });
    const c = client(srv.url, { maxSockets: 1 });
    expect((await c.settle(REQUEST)).kind).toBe('ok');
    expect(await c.settle(REQUEST)).toMatchObject({ kind: 'unavailable', failure: 'network' });
    expect(srv.seen).toHaveLength(2);
  });

  it('closes its idle sockets on close()', async () => {
    const srv = await scripted((_q, res) => reply(res, 200, { isValid: true }));
    const c = client(srv.url);
    await c.verify(REQUEST);
    expect(srv.openSockets()).toBe(1);
    await c.close();
    await expect.poll(() => srv.openSockets(), { timeout: 1_000 }).toBe(0);
  });
});
