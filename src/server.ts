/**
 * The two listeners (paying side and admin side) and graceful shutdown: stop accepting, let
 * in-flight requests and their settlements finish within a deadline, then close everything.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig, HostPort } from './config/types.js';
import { buildGateway, type BuildOptions, type GatewayParts } from './gateway.js';
import { createAdminServer } from './metrics/server.js';
import type { FacilitatorClient } from './verify/types.js';

export interface RunningGateway {
  /** Base URL of the paying side, e.g. http://127.0.0.1:8402 */
  readonly url: string;
  readonly adminUrl: string;
  readonly parts: GatewayParts;
  /** Graceful stop; resolves when everything is closed. Idempotent. */
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, options: BuildOptions = {}): Promise<RunningGateway> {
  const facilitator = options.facilitator ?? (await createConfiguredLocalFacilitator(config));
  let parts: GatewayParts;
  try {
    parts = buildGateway(config, facilitator ? { ...options, facilitator } : options);
  } catch (err) {
    await facilitator?.close();
    throw err;
  }
  try {
    return await serve(config, parts);
  } catch (err) {
    await parts.close(); // closes the facilitator too
    throw err;
  }
}

/** Thrown when the gateway cannot start (the message says why and which key to fix). */
export class GatewayStartError extends Error {
  readonly code = 'GW_ERR_START';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayStartError';
  }
}

/**
 * `facilitator.local`: the built-in facilitator, in-process, bounded by the configured deadlines.
 * Undefined for an HTTP facilitator (buildGateway creates its client).
 */
async function createConfiguredLocalFacilitator(config: GatewayConfig): Promise<FacilitatorClient | undefined> {
  const f = config.facilitator;
  if (f.kind !== 'local') return undefined;
  try {
    // Loaded on demand: the official x402 facilitator code is only needed for `local`.
    const { createLocalFacilitator } = await import('./facilitator/local.js');
    return await createLocalFacilitator({
      rpcUrl: f.rpcUrl,
      privateKey: f.privateKey,
      receiptTimeoutMs: f.receiptTimeoutMs,
      pollingIntervalMs: f.pollingIntervalMs,
      verifyTimeoutMs: f.verifyTimeoutMs,
      settleTimeoutMs: f.settleTimeoutMs,
      // An RPC call never outlives the settle deadline.
      rpcTimeoutMs: Math.min(10_000, f.settleTimeoutMs),
    });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new GatewayStartError(`facilitator.local: cannot start the built-in facilitator: ${why}`, { cause: err });
  }
}

async function serve(config: GatewayConfig, parts: GatewayParts): Promise<RunningGateway> {
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

  try {
    await Promise.all([listen(server, config.server.listen), listen(admin, config.server.admin)]);
  } catch (err) {
    server.close();
    admin.close();
    throw err;
  }
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
