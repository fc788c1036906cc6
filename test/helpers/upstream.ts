/**
 * A real loopback upstream for integration and e2e tests: records every request it receives
 * (method, url, headers) so tests can prove what did — and did not — reach it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface UpstreamCall {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface TestUpstream {
  readonly url: string;
  readonly calls: UpstreamCall[];
  /** The next `n` requests (any path) answer 500, whatever they ask for. */
  failNext(n: number): void;
  close(): Promise<void>;
}

/**
 * Routes (unless failNext is counting down: then 500): `/v1/fail*` → 500; `/v1/missing*` → 404; `/v1/slow*` → never answers (until closed);
 * `/v1/big*` → 64 KiB body; any path with `/break` → 200, 32 KiB of body, then the connection is
 * cut mid-body; anything else → 200 JSON echo of method and url.
 */
export async function startTestUpstream(): Promise<TestUpstream> {
  const calls: UpstreamCall[] = [];
  const hanging = new Set<http.ServerResponse>();
  let failing = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      calls.push({
        method: req.method ?? '',
        url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (failing > 0) {
        failing--;
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":"upstream down for a moment"}');
      } else if (url.startsWith('/v1/fail')) {
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end('{"error":"upstream broke"}');
      } else if (url.startsWith('/v1/missing')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such thing"}');
      } else if (url.startsWith('/v1/slow')) {
        // also /v1/slow-free (unpriced)
        hanging.add(res);
      } else if (url.includes('/break')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 65536 });
        res.write(Buffer.alloc(32768, 7), () => res.destroy());
      } else if (url.startsWith('/v1/big')) {
        res
          .writeHead(200, { 'content-type': 'application/octet-stream' })
          .end(Buffer.alloc(65536, 7));
      } else {
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'cache-control': 'max-age=60',
            // An upstream must not be able to forge a settlement receipt: the gateway strips this.
            'payment-response': 'forged',
          })
          .end(JSON.stringify({ ok: true, method: req.method, url }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failNext(n) {
      failing = n;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
