/**
 * A real loopback upstream for integration and e2e tests: records every request it receives
 * (method, url, headers) so tests can prove what did — and did not — reach it.
 */
import http from 'node:http';
import https from 'node:https';
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
  /** Answer every request held so far (paths with `/held`): the echo, now. */
  releaseHeld(): void;
  close(): Promise<void>;
}

const HUGE_CHUNK = Buffer.alloc(65536, 7);

export interface TestUpstreamOptions {
  /** Serve https with this key and certificate (tls-certs.ts). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Listen on this port (a restarted upstream on its old port); default: a free one. */
  readonly port?: number;
}

/**
 * Routes (unless failNext is counting down: then 500): `/v1/fail*` → 500; `/v1/missing*` → 404; `/v1/slow*` → never answers (until closed);
 * `/v1/big*` → 64 KiB body; `/v1/redirect*` → 302 whose Location and Content-Location name this
 * upstream's own origin; any path with `/break` → 200, 32 KiB of body, then the connection is
 * cut mid-body; with `/stall` → 200, 1 KiB of a 64 KiB body, then silence; with `/huge` → 32 MiB; with `/delay` → the echo, 400 ms late; with `/drip` → the echo's first 8 bytes, the rest 2.5 s later; with `/held` → the echo, once the test calls `releaseHeld()` (a request parked in the upstream while the test acts); anything else → 200 JSON echo of method and url.
 */
export async function startTestUpstream(options: TestUpstreamOptions = {}): Promise<TestUpstream> {
  const calls: UpstreamCall[] = [];
  const hanging = new Set<http.ServerResponse>();
  const held: Array<() => void> = [];
  let failing = 0;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const handler: http.RequestListener = (req, res) => {
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
      } else if (url.includes('/stall')) {
        // Headers and 1 KiB of a 64 KiB body, then nothing until closed: a stalled upstream body.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 65536 });
        res.write(Buffer.alloc(1024, 7));
        hanging.add(res);
      } else if (url.includes('/huge')) {
        // 32 MiB, more than loopback socket buffers hold: a client that stops reading stalls it.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        let left = 512;
        const more = (): void => {
          while (left > 0) {
            left--;
            if (!res.write(HUGE_CHUNK)) return void res.once('drain', more);
          }
          res.end();
        };
        res.on('close', () => (left = 0));
        more();
      } else if (url.includes('/drip')) {
        // The echo in two parts, 2.5 s apart: a response still streaming after its settlement.
        const body = JSON.stringify({ ok: true, method: req.method, url });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
        res.write(body.slice(0, 8));
        const rest = setTimeout(() => res.end(body.slice(8)), 2_500);
        res.on('close', () => clearTimeout(rest));
      } else if (url.includes('/held')) {
        held.push(() =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ ok: true, method: req.method, url })),
        );
      } else if (url.includes('/delay')) {
        // The echo 400 ms late: a request that holds its slot (and its payment) a while.
        setTimeout(() => {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ ok: true, method: req.method, url }));
        }, 400);
      } else if (url.startsWith('/v1/redirect')) {
        const self = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
        res
          .writeHead(302, {
            location: `${self}/v1/items/7?from=redirect`,
            'content-location': `${self}/v1/redirect.json`,
          })
          .end();
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
  };
  const server =
    options.tls === undefined
      ? http.createServer(handler)
      : https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    calls,
    failNext(n) {
      failing = n;
    },
    releaseHeld() {
      for (const answer of held.splice(0)) answer();
    },
    async close() {
      for (const answer of held.splice(0)) answer();
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
