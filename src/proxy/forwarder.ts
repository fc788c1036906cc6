/**
 * The one file that imports `http-proxy` (unmaintained since 2020): everything else sees the
 * `Forwarder` seam, so the library can be swapped for http-proxy-3 or httpxy here alone.
 *
 * We run it with `selfHandleResponse`: the upstream's status and headers come back to the pipeline,
 * which decides (settle first, or not) before a single byte reaches the client.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { parse as parseLegacyUrl } from 'node:url';
import httpProxy from 'http-proxy';

export type ForwardResult =
  | { readonly kind: 'response'; readonly response: IncomingMessage }
  | {
      readonly kind: 'error';
      /** unavailable = refused/reset/DNS; timeout = no response headers in time; client_gone = the client left first. */
      readonly error: 'unavailable' | 'timeout' | 'client_gone' | 'body_too_large';
      readonly detail: string;
    };

export interface Forwarder {
  /**
   * Send `req` (its current `url` and `headers`, body streamed from `body` or `req`) to the upstream and
   * call `done` once, when the upstream's status and headers arrive or with the reason it failed.
   * A callback, not a promise: this is on every request, and a promise costs an allocation and a tick.
   */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    body: Readable | undefined,
    done: (result: ForwardResult) => void,
  ): void;
  close(): void;
}

export interface ForwarderOptions {
  /** Upstream base URL (may carry a base path). */
  readonly target: string;
  /** Deadline for the upstream's response headers, ms. */
  readonly timeoutMs: number;
  /** Max sockets per upstream host. */
  readonly maxSockets?: number;
}

class UpstreamTimeoutError extends Error {
  readonly code = 'GW_ERR_UPSTREAM_TIMEOUT';
}

/** Marks a body stream error raised by our own size limiter. */
export class BodyTooLargeError extends Error {
  readonly code = 'GW_ERR_BODY_TOO_LARGE';
}

interface Pending {
  readonly settle: (result: ForwardResult) => void;
  readonly timer: NodeJS.Timeout;
  proxyReq: http.ClientRequest | undefined;
  timedOut: boolean;
}

/**
 * Per-request state rides on the incoming request under a symbol: http-proxy's events and error
 * callback only hand back req/res. A WeakMap did the same job at ~0.7 µs per request (its
 * ephemeron bookkeeping in every scavenge), on the path of every request.
 */
const PENDING = Symbol('x402-gateway.forward');

interface Carrier {
  [PENDING]?: Pending | undefined;
}

const pendingOf = (req: IncomingMessage): Pending | undefined => (req as Carrier)[PENDING];

export function createHttpProxyForwarder(options: ForwarderOptions): Forwarder {
  const targetUrl = new URL(options.target);
  const isHttps = targetUrl.protocol === 'https:';
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 1024,
    maxFreeSockets: 256,
    scheduling: 'lifo' as const,
  };
  const agent = isHttps ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const proxy = httpProxy.createProxyServer({
    // Parsed once here: given a string, http-proxy re-parses it on every request that passes options.
    target: parseLegacyUrl(options.target),
    agent,
    selfHandleResponse: true,
    // We set X-Forwarded-* ourselves (request-headers.ts): trusting or not is a config decision.
    xfwd: false,
    // Keep the client's Host? No: the upstream is a separate origin; X-Forwarded-Host carries the original.
    changeOrigin: true,
    ws: false,
  });

  // http-proxy's documented `web(req, res, callback)` form, which @types/http-proxy does not declare.
  // It calls back with `(err, req, res)`, so one callback serves every request.
  const webWithoutOptions = proxy.web.bind(proxy) as unknown as (
    req: IncomingMessage,
    res: ServerResponse,
    callback: (err: Error, req: IncomingMessage) => void,
  ) => void;

  // An unhandled `error` event on the proxy would crash the process (ProxyServer.prototype.onError).
  proxy.on('error', (err: Error, req: IncomingMessage) => {
    finish(req, classifyError(req, err));
  });
  // http-proxy swallows ECONNRESET when the client socket is already gone: resolve those too.
  proxy.on('econnreset', (_err: Error, req: IncomingMessage) => {
    finish(req, { kind: 'error', error: 'client_gone', detail: 'client connection closed' });
  });
  proxy.on('proxyReq', (proxyReq: http.ClientRequest, req: IncomingMessage) => {
    const pending = pendingOf(req);
    if (pending !== undefined) pending.proxyReq = proxyReq;
  });
  proxy.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage) => {
    finish(req, { kind: 'response', response: proxyRes });
  });

  function finish(req: IncomingMessage, result: ForwardResult): void {
    const pending = pendingOf(req);
    if (pending === undefined) return;
    (req as Carrier)[PENDING] = undefined;
    clearTimeout(pending.timer);
    pending.settle(result);
  }

  const onError = (err: Error, req: IncomingMessage): void => finish(req, classifyError(req, err));

  function classifyError(req: IncomingMessage, err: Error): ForwardResult {
    const pending = pendingOf(req);
    if (err instanceof UpstreamTimeoutError || pending?.timedOut === true) {
      return { kind: 'error', error: 'timeout', detail: `no upstream response within ${options.timeoutMs} ms` };
    }
    if (err instanceof BodyTooLargeError) {
      return { kind: 'error', error: 'body_too_large', detail: err.message };
    }
    if (req.socket.destroyed) {
      return { kind: 'error', error: 'client_gone', detail: 'client connection closed' };
    }
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    return { kind: 'error', error: 'unavailable', detail: `${code}: ${err.message}`.slice(0, 200) };
  }

  return {
    forward(req, res, body, done) {
      const pending: Pending = {
        settle: done,
        proxyReq: undefined,
        timedOut: false,
        timer: setTimeout(() => {
          pending.timedOut = true;
          if (pending.proxyReq !== undefined) {
            pending.proxyReq.destroy(new UpstreamTimeoutError('upstream timeout'));
          } else {
            finish(req, { kind: 'error', error: 'timeout', detail: 'no upstream socket in time' });
          }
        }, options.timeoutMs),
      };
      (req as Carrier)[PENDING] = pending;
      // http-proxy pipes `buffer` without an error listener: a limiter error would crash the process.
      body?.once('error', (err: Error) => {
        pending.proxyReq?.destroy(err);
        finish(req, classifyError(req, err));
      });
      // Without per-request options http-proxy skips copying its option object for each request.
      if (body === undefined) webWithoutOptions(req, res, onError);
      else proxy.web(req, res, { buffer: body }, onError);
    },
    close() {
      proxy.close();
      agent.destroy();
    },
  };
}
