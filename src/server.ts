/**
 * The two listeners (paying side and admin side) and graceful shutdown: stop accepting, let
 * in-flight requests and their settlements finish within a deadline, then close everything.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig, HostPort } from './config/types.js';
import { buildGateway, type BuildOptions, type GatewayParts } from './gateway.js';
import { createAdminServer } from './metrics/server.js';

export interface RunningGateway {
  /** Base URL of the paying side, e.g. http://127.0.0.1:8402 */
  readonly url: string;
  readonly adminUrl: string;
  readonly parts: GatewayParts;
  /** Graceful stop; resolves when everything is closed. Idempotent. */
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: BuildOptions = {}): Promise<RunningGateway> {
  const parts = buildGateway(config, options);
  const limits = config.server.limits;
  const server = http.createServer(
    {
      maxHeaderSize: limits.maxHeaderBytes,
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Reject requests with malformed header values instead of passing them upstream.
      insecureHTTPParser: false,
    },
    parts.handler,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // A request node's parser refuses never reaches the handler: answer in our JSON error shape.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, reason] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'header_too_large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request_timeout']
          : [400, 'invalid_request'];
    parts.deps.log.info({ status, reason, code: err.code }, 'request refused by the HTTP parser');
    const body = JSON.stringify({ error: 'request refused', reason });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  const admin = createAdminServer(parts.metrics.registry, parts.readiness);

  await Promise.all([listen(server, config.server.listen), listen(admin, config.server.admin)]);
  const url = baseUrl(server);
  const adminUrl = baseUrl(admin);
  parts.deps.log.info({ url, adminUrl, routes: parts.deps.prices.routes.length }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      server.close();
      server.closeIdleConnections();
      const deadline = Date.now() + config.server.shutdownTimeoutMs;
      // In-flight requests include settlements under way: never cut one short before its deadline.
      while (parts.deps.inFlight.count > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        server.closeIdleConnections();
      }
      if (parts.deps.inFlight.count > 0) {
        parts.deps.log.warn({ inFlight: parts.deps.inFlight.count }, 'shutdown deadline passed with requests in flight');
      }
      server.closeAllConnections();
      admin.close();
      admin.closeAllConnections();
      await parts.close();
      parts.deps.log.info('gateway stopped');
      parts.deps.log.flush();
    })();
    return closing;
  };
  return { url, adminUrl, parts, close };
}

function listen(server: http.Server, at: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function baseUrl(server: http.Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
