/**
 * Misbehaving HTTP/1.1 clients on raw sockets, for the slow-client hardening tests: one that
 * announces a body and never sends it, and one that asks for a response and never reads it. Each
 * may connect from another loopback address (127.0.0.0/8 is all ours on Linux), so a test can be
 * many clients at once.
 */
import net from 'node:net';

export interface RawExchange {
  readonly socket: net.Socket;
  /** Everything the gateway sent, once the connection has closed (never rejects). */
  readonly reply: Promise<string>;
  /** Milliseconds from connect to close, once closed. */
  readonly closedAfterMs: Promise<number>;
}

function open(base: string, request: string, localAddress?: string): RawExchange {
  const url = new URL(base);
  const started = performance.now();
  const socket = net.connect({ host: url.hostname, port: Number(url.port), localAddress });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  socket.write(request);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - started)),
  );
  return {
    socket,
    reply: closed.then(() => Buffer.concat(chunks).toString('latin1')),
    closedAfterMs: closed,
  };
}

/** POST with `Content-Length: 100000` and not one body byte. */
export function stalledBody(
  base: string,
  options: { path?: string; localAddress?: string; headers?: Record<string, string> } = {},
): RawExchange {
  const extra = Object.entries(options.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return open(
    base,
    `POST ${options.path ?? '/anything'} HTTP/1.1\r\nhost: gateway\r\ncontent-length: 100000\r\n${extra}\r\n`,
    options.localAddress,
  );
}

/** GET `path` and never read a byte of the answer (the socket is paused before anything arrives). */
export function stalledReader(base: string, path: string): RawExchange {
  const exchange = open(base, `GET ${path} HTTP/1.1\r\nhost: gateway\r\n\r\n`);
  exchange.socket.pause();
  return exchange;
}

/** The 99th percentile of `values` (nearest rank). */
export function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
}
