/**
 * A loopback upstream whose faults the client picks per request, with the `x-upstream-fault`
 * request header (the gateway forwards it; the payment's path and query stay the payment's own, so
 * a retry of the same payment can meet another fault):
 *
 * - none: 200 JSON `{ ok, url }`;
 * - `500`: HTTP 500;
 * - `hold`: `onRequest` is told, then the answer (a 200) waits `holdMs` (a client can leave meanwhile);
 * - `slow-body`: 200 with half its body at once; the rest waits until the gateway drops this
 *   connection (its client left mid-body, after the gateway settled on the headers), or at most
 *   `bodyHoldMs`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultyUpstreamOptions {
  /** How long `hold` waits, ms. Default 300. */
  readonly holdMs?: number;
  /** How long `slow-body` holds the rest of its body at most, ms. Default 2 000. */
  readonly bodyHoldMs?: number;
  /** Told of every request as it arrives (before any answer). */
  readonly onRequest?: (req: http.IncomingMessage) => void;
}

export interface FaultyUpstream {
  readonly url: string;
  /** Requests received, per `x-upstream-fault` value (`none` when absent). */
  readonly calls: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/** Half of the `slow-body` answer: big enough to be its own chunk on the wire. */
const HALF = 16 * 1024;

export async function startFaultyUpstream(o: FaultyUpstreamOptions = {}): Promise<FaultyUpstream> {
  const holdMs = o.holdMs ?? 300;
  const bodyHoldMs = o.bodyHoldMs ?? 2_000;
  const calls: Record<string, number> = {};
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): NodeJS.Timeout => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const server = http.createServer((req, res) => {
    res.on('error', () => undefined);
    req.resume();
    req.on('end', () => {
      const fault = String(req.headers['x-upstream-fault'] ?? 'none');
      calls[fault] = (calls[fault] ?? 0) + 1;
      o.onRequest?.(req);
      const body = JSON.stringify({ ok: true, url: req.url });
      switch (fault) {
        case '500':
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"broke"}');
          return;
        case 'hold':
          later(holdMs, () => {
            if (!res.destroyed)
              res.writeHead(200, { 'content-type': 'application/json' }).end(body);
          });
          return;
        case 'slow-body':
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'content-length': 2 * HALF,
          });
          res.write(Buffer.alloc(HALF, 1));
          {
            const t = later(bodyHoldMs, () => {
              if (!res.destroyed) res.end(Buffer.alloc(HALF, 2));
            });
            res.on('close', () => {
              clearTimeout(t);
              timers.delete(t);
            });
          }
          return;
        default:
          res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
