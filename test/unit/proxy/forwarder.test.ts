import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BodyTooLargeError,
  createForwarder,
  type ForwardResult,
  type UpstreamResponse,
} from '../../../src/proxy/forwarder.js';

const closers: (() => void)[] = [];
afterEach(() => {
  while (closers.length > 0) closers.pop()!();
});

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => server.closeAllConnections());
  closers.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** An upstream that records each request (body included) and answers `ok`. */
async function recordingUpstream(): Promise<{ url: string; seen: Promise<Seen> }> {
  let report!: (s: Seen) => void;
  const seen = new Promise<Seen>((r) => (report = r));
  const url = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      report({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.end('ok');
    });
  });
  return { url, seen };
}

type BodyOf = (req: http.IncomingMessage) => Readable | undefined;

/**
 * A front server that forwards each request with `bodyOf(req)` as the body and reports the
 * forwarder's result; the upstream's body is piped to the client.
 */
async function front(target: string, timeoutMs: number, bodyOf: BodyOf = () => undefined) {
  const forwarder = createForwarder({ target, timeoutMs });
  closers.push(() => void forwarder.close());
  let report!: (r: { result: ForwardResult; ms: number }) => void;
  const outcome = new Promise<{ result: ForwardResult; ms: number }>((r) => (report = r));
  const url = await listen((req, res) => {
    const started = performance.now();
    const body = bodyOf(req);
    // Hop-by-hop: the gateway's cleaned headers (request-headers.ts) never carry the client's.
    const headers = { ...req.headers };
    delete headers['transfer-encoding'];
    delete headers.connection;
    const request = { method: req.method ?? 'GET', path: `/api${req.url ?? ''}`, headers };
    forwarder.forward(request, res, body, (result) => {
      report({ result, ms: performance.now() - started });
      if (result.kind === 'response') {
        res.writeHead(result.response.status);
        result.response.pipeTo(res);
      } else res.end();
    });
  });
  return { url, outcome };
}

/** A client request that resolves with the status and body, or the error that ended it. */
function call(url: string, init: http.RequestOptions = {}, body?: string | string[]) {
  return new Promise<{ status?: number; body?: string; error?: string }>((resolve) => {
    const req = http.request(url, init, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', (e) => resolve({ error: e.message }));
    });
    req.on('error', (e) => resolve({ error: e.message }));
    for (const part of typeof body === 'string' ? [body] : (body ?? [])) req.write(part);
    req.end();
  });
}

describe('createForwarder', () => {
  it('hands back the upstream response', async () => {
    const upstream = await listen((_req, res) => res.end('ok'));
    const { url, outcome } = await front(upstream, 1_000);
    expect(await call(`${url}/x`)).toEqual({ status: 200, body: 'ok' });
    expect((await outcome).result.kind).toBe('response');
  });

  it('sends the method, the base path + url, the given headers and the upstream origin as Host', async () => {
    const upstream = await recordingUpstream();
    const { url } = await front(`${upstream.url}/base`, 1_000);
    await call(`${url}/items/7?q=1`, { method: 'DELETE', headers: { 'x-kept': 'yes' } });
    const seen = await upstream.seen;
    expect(seen.method).toBe('DELETE');
    expect(seen.url).toBe('/base/api/items/7?q=1');
    expect(seen.headers.host).toBe(new URL(upstream.url).host);
    expect(seen.headers['x-kept']).toBe('yes');
    // No framing from the client, so no body: neither a length nor a transfer coding is invented.
    expect(seen.headers['content-length']).toBeUndefined();
    expect(seen.headers['transfer-encoding']).toBeUndefined();
    expect(seen.body).toBe('');
  });

  it('streams a body with a Content-Length as is', async () => {
    const upstream = await recordingUpstream();
    const { url } = await front(upstream.url, 1_000, (req) => req);
    await call(
      `${url}/post`,
      { method: 'POST', headers: { 'content-length': '11' } },
      'hello world',
    );
    const seen = await upstream.seen;
    expect(seen.headers['content-length']).toBe('11');
    expect(seen.body).toBe('hello world');
  });

  it('sends a body without a length chunked, even on a GET', async () => {
    const upstream = await recordingUpstream();
    const { url } = await front(upstream.url, 1_000, (req) => req.pipe(new PassThrough()));
    // The second part comes later, so the body cannot be measured up front: it must go chunked.
    const client = http.request(`${url}/get`, {
      method: 'GET',
      headers: { 'transfer-encoding': 'chunked' },
    });
    client.on('response', (r) => r.resume());
    client.on('error', () => undefined); // the servers close at the end of the test
    client.write('part one, ');
    setTimeout(() => client.end('part two'), 50);
    const seen = await upstream.seen;
    expect(seen.headers['transfer-encoding']).toBe('chunked');
    expect(seen.body).toBe('part one, part two');
  });

  it('times out an upstream that never answers, at its deadline', async () => {
    const upstream = await listen(() => undefined); // never answers
    const { url, outcome } = await front(upstream, 300);
    void call(`${url}/x`);
    const { result, ms } = await outcome;
    expect(result).toMatchObject({ kind: 'error', error: 'timeout' });
    // Node's timers start from the event loop's cached clock, up to a few ms before `started`.
    expect(ms).toBeGreaterThanOrEqual(295);
    expect(ms).toBeLessThan(300 + 200);
  });

  it('reports a refused connection as unavailable', async () => {
    const { url, outcome } = await front('http://127.0.0.1:1', 1_000);
    void call(`${url}/x`);
    expect((await outcome).result).toMatchObject({ kind: 'error', error: 'unavailable' });
  });

  it('abandons the upstream request when the client leaves before the answer', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const upstream = await listen((_req, res) => res.on('close', upstreamClosed)); // never answers
    const { url, outcome } = await front(upstream, 5_000);
    const client = http.get(`${url}/x`);
    client.on('error', () => undefined);
    setTimeout(() => client.destroy(), 100);
    const { result, ms } = await outcome;
    expect(result).toMatchObject({ kind: 'error', error: 'client_gone' });
    expect(ms).toBeLessThan(1_000); // not the 5 s deadline
    await closed; // the upstream saw its connection go
  });

  it('frees the upstream connection when the client leaves mid-response', async () => {
    let upstreamClosed!: (finished: boolean) => void;
    const closed = new Promise<boolean>((r) => (upstreamClosed = r));
    const upstream = await listen((_req, res) => {
      res.on('close', () => upstreamClosed(res.writableFinished));
      res.write('first chunk'); // and never the rest
    });
    const { url } = await front(upstream, 5_000);
    await new Promise<void>((resolve) => {
      http
        .get(`${url}/x`, (res) => {
          res.on('error', () => undefined);
          res.once('data', () => {
            res.destroy();
            resolve();
          });
        })
        .on('error', () => undefined);
    });
    expect(await closed).toBe(false);
  });

  it('ends the upstream request when the body fails, with the body error as the reason', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    const upstream = await listen((req, res) => {
      req.resume();
      res.on('close', upstreamClosed);
    });
    const body = new PassThrough();
    const { url, outcome } = await front(upstream, 5_000, () => body);
    void call(`${url}/post`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, 'x');
    body.write('some bytes');
    setTimeout(() => body.destroy(new BodyTooLargeError('request body over 4 bytes')), 50);
    expect((await outcome).result).toMatchObject({ kind: 'error', error: 'body_too_large' });
    await closed;
  });
});

/** Forward one client GET and hand the test the held response and the client's `res`. */
async function held(target: string) {
  const forwarder = createForwarder({ target, timeoutMs: 5_000 });
  closers.push(() => void forwarder.close());
  let report!: (h: { response: UpstreamResponse; res: http.ServerResponse }) => void;
  const answer = new Promise<{ response: UpstreamResponse; res: http.ServerResponse }>(
    (r) => (report = r),
  );
  const url = await listen((req, res) => {
    const headers = { ...req.headers };
    delete headers.connection;
    const request = { method: req.method ?? 'GET', path: req.url ?? '/', headers };
    forwarder.forward(request, res, undefined, (result) => {
      if (result.kind !== 'response') throw new Error(`expected a response, got ${result.error}`);
      report({ response: result.response, res });
    });
  });
  const client = call(`${url}/x`);
  return { ...(await answer), client };
}

/** An upstream that sends `size` bytes in 1 KiB writes, then ends (or never ends with `endless`). */
async function bodyUpstream(size: number, endless = false) {
  let upstreamClosed!: (finished: boolean) => void;
  const closed = new Promise<boolean>((r) => (upstreamClosed = r));
  const url = await listen((_req, res) => {
    res.on('close', () => upstreamClosed(res.writableFinished));
    res.writeHead(200, {
      'content-type': 'text/plain',
      'set-cookie': ['a=1', 'b=2'],
      'X-Custom': 'yes',
    });
    for (let sent = 0; sent < size; sent += 1024)
      res.write('x'.repeat(Math.min(1024, size - sent)));
    if (!endless) res.end();
  });
  return { url, closed };
}

describe('the held upstream response', () => {
  it('gives the status and the headers as received, names in lower case', async () => {
    const upstream = await bodyUpstream(10);
    const { response, res } = await held(upstream.url);
    expect(response.status).toBe(200);
    expect(response.headers['x-custom']).toBe('yes');
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    response.discard();
    res.end();
  });

  it('keeps the body until it is piped, then streams all of it', async () => {
    const upstream = await bodyUpstream(200_000);
    const { response, res, client } = await held(upstream.url);
    await new Promise((r) => setTimeout(r, 100)); // the settle stage would be at work here
    res.writeHead(response.status);
    response.pipeTo(res);
    const got = await client;
    expect(got.status).toBe(200);
    expect(got.body).toHaveLength(200_000);
    expect(await upstream.closed).toBe(true);
  });

  it('keeps a long body in the upstream, not in memory, until it is piped', async () => {
    const size = 8 * 1024 * 1024; // more than loopback socket buffers hold
    const upstream = await bodyUpstream(size);
    let finished = false;
    void upstream.closed.then((f) => (finished = f));
    const { response, res, client } = await held(upstream.url);
    await new Promise((r) => setTimeout(r, 200));
    expect(finished).toBe(false); // paused past HOLD_BYTES: the upstream is still writing
    res.writeHead(response.status);
    response.pipeTo(res);
    expect((await client).body).toHaveLength(size);
    expect(await upstream.closed).toBe(true);
  });

  it('reads a body that fits', async () => {
    const upstream = await bodyUpstream(5_000);
    const { response, res } = await held(upstream.url);
    const body = await response.read(5_000);
    expect(Buffer.isBuffer(body) && body.length).toBe(5_000);
    res.end();
  });

  it('refuses a body over the limit and drops the upstream connection', async () => {
    const upstream = await bodyUpstream(64 * 1024, true);
    const { response, res } = await held(upstream.url);
    expect(await response.read(4_096)).toBe('too_large');
    expect(await upstream.closed).toBe(false);
    res.end();
  });

  it('discarding drops the upstream connection instead of draining it', async () => {
    const upstream = await bodyUpstream(1024, true);
    const { response, res } = await held(upstream.url);
    response.discard();
    expect(await upstream.closed).toBe(false);
    res.end();
  });

  it('a body that breaks mid-stream destroys the client response', async () => {
    let upstreamRes!: http.ServerResponse;
    const url = await listen((_req, r) => {
      upstreamRes = r;
      r.writeHead(200, { 'content-length': '100000' });
      r.write('x'.repeat(1000));
    });
    const { response, res, client } = await held(url);
    res.writeHead(response.status, { 'content-length': '100000' });
    response.pipeTo(res);
    setTimeout(() => upstreamRes.destroy(), 50);
    const got = await client;
    expect(got.error).toBeDefined(); // the client sees the break, not a short body passed as whole
  });
});
