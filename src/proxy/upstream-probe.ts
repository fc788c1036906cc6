/**
 * Is the upstream reachable? One TCP connect to its host and port: the periodic check of an
 * upstream without `health.path` (upstream-health.ts), whose answer readiness reads. A connect, not
 * an HTTP request: the upstream's own logs and rate limits never see the gateway's health checks,
 * and "accepts connections" is what a proxy can know without an endpoint to call.
 */
import { connect } from 'node:net';

/** One TCP connect to `host:port`: undefined when it connected, else why not (an error code). */
export function tcpConnect(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (error: string | undefined): void => {
      socket.destroy();
      resolve(error);
    };
    socket.setTimeout(timeoutMs, () => done(`no connection within ${timeoutMs} ms`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
  });
}

/** The host (without IPv6 brackets) and port a base URL connects to. */
export function hostAndPort(target: string): { host: string; port: number } {
  const url = new URL(target);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
  };
}
