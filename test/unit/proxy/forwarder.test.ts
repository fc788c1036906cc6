import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpProxyForwarder, type ForwardResult } from '../../../src/proxy/forwarder.js';

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

/** A front server that forwards each request and reports the forwarder's result. */
async function forwardOnce(target: string, timeoutMs: number): Promise<{ result: ForwardResult; ms: number }> {
  const forwarder = createHttpProxyForwarder({ target, timeoutMs });
  closers.push(() => forwarder.close());
  const outcome = new Promise<{ result: ForwardResult; ms: number }>((resolve) => {
    void listen((req, res) => {
      const started = performance.now();
      forwarder.forward(req, res, undefined, (result) => {
        resolve({ result, ms: performance.now() - started });
        if (result.kind === 'response') result.response.resume();
        res.end();
      });
    }).then((front) => http.get(`${front}/x`, (r) => r.resume()).on('error', () => undefined));
  });
  return outcome;
}

describe('createHttpProxyForwarder', () => {
  it('hands back the upstream response', async () => {
    const upstream = await listen((_req, res) => res.end('ok'));
    const { result } = await forwardOnce(upstream, 1_000);
    expect(result.kind).toBe('response');
  });

  it('times out an upstream that never answers, at its deadline', async () => {
    const upstream = await listen(() => undefined); // never answers
    const { result, ms } = await forwardOnce(upstream, 300);
    expect(result).toMatchObject({ kind: 'error', error: 'timeout' });
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(300 + 200);
  });

  it('reports a refused connection as unavailable', async () => {
    const { result } = await forwardOnce('http://127.0.0.1:1', 1_000);
    expect(result).toMatchObject({ kind: 'error', error: 'unavailable' });
  });
});
