/**
 * The two listeners (paying side and admin side) and graceful shutdown: stop accepting, let
 * in-flight requests and their settlements finish within a deadline, then close everything.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ConfigProblem, ConfigResult, GatewayConfig, HostPort } from './config/index.js';
import { buildGateway, GatewayStartError, type BuildOptions, type Gateway } from './gateway.js';
import { createAdminServer } from './metrics/index.js';
import { expectsContinue, GATEWAY_REASON } from './pipeline/index.js';
import { listenError } from './lib/index.js';

export interface RunningGateway {
  /** Base URL of the paying side, e.g. http://127.0.0.1:8402 */
  readonly url: string;
  readonly adminUrl: string;
  readonly gateway: Gateway;
  readonly log: Logger;
  /**
   * Apply a freshly loaded config (SIGHUP, `--watch`): an invalid one changes nothing and is
   * logged problem by problem; a valid one swaps in between requests, restart-only keys refused by
   * name (config/reload.ts). Counted in `config_reload_total{result}`. Never throws.
   */
  reload(loaded: ConfigResult): ReloadReport;
  /** Graceful stop; resolves when everything is closed. Idempotent. */
  close(): Promise<void>;
}

/** What a reload did. */
export type ReloadReport =
  | {
      readonly ok: true;
      /** Reloadable keys that changed (empty: the file says what runs already). */
      readonly changed: readonly string[];
      /** Restart-only keys that changed: they keep their running values until a restart. */
      readonly refused: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export { GatewayStartError };

/**
 * Build the gateway (no I/O), start its parts in order, then listen. Rejects with
 * {@link GatewayStartError} when a part cannot start, after stopping what had started.
 */
export async function startGateway(
  config: GatewayConfig,
  options: BuildOptions = {},
  serveOptions: ServeOptions = {},
): Promise<RunningGateway> {
  let gateway: Gateway;
  try {
    gateway = buildGateway(config, options);
  } catch (err) {
    await options.facilitator?.close();
    throw new GatewayStartError(
      `cannot build the gateway: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
  await gateway.start();
  try {
    return await serve(config, gateway, serveOptions);
  } catch (err) {
    gateway.readiness.failed(err instanceof Error ? err.message : String(err));
    await gateway.stop(); // closes the facilitator too
    throw err;
  }
}

/** How the listeners are set up. */
export interface ServeOptions {
  /**
   * Serve the admin listener (default true). A cluster worker does not: its primary serves it
   * for the whole process, asking each worker over IPC (cli/cluster/).
   */
  readonly admin?: boolean;
}

async function serve(
  config: GatewayConfig,
  gateway: Gateway,
  serveOptions: ServeOptions,
): Promise<RunningGateway> {
  const log = gateway.log;
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
    gateway.handler,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Expect: 100-continue: no automatic 100. The forward stage sends it when it takes the body; a
  // refusal (a 402 on a priced route without payment…) goes out before any 100 (refused-body.ts).
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    expectsContinue(req);
    gateway.handler(req, res);
  });
  refuseOverShare(server, gateway);
  // A request node's parser refuses never reaches the handler: answer in our JSON error shape.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, reason] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, GATEWAY_REASON.headerTooLarge]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, GATEWAY_REASON.requestTimeout]
          : [400, GATEWAY_REASON.invalidRequest];
    log.info({ status, reason, code: err.code }, 'request refused by the HTTP parser');
    const body = JSON.stringify({ error: 'request refused', reason });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nconnection: close\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  const admin =
    serveOptions.admin === false
      ? undefined
      : createAdminServer(gateway.metrics.registry, gateway.readiness, {
          reconcile: gateway.reconcile,
        });

  try {
    await Promise.all([
      listen(server, config.server.listen, 'server.listen, the paying side'),
      admin && listen(admin, config.server.admin, 'server.admin, the admin listener'),
    ]);
  } catch (err) {
    server.close();
    admin?.close();
    throw err;
  }
  const url = baseUrl(server);
  const adminUrl = admin === undefined ? '' : baseUrl(admin);
  log.info({ url, adminUrl, routes: gateway.routes.length }, 'gateway listening');

  const reload = (loaded: ConfigResult): ReloadReport => {
    const report = applyReload(gateway, loaded);
    if (report.ok) {
      // The node server's own deadlines are read per connection: new values apply from now.
      const limits = gateway.config.server.limits;
      server.headersTimeout = limits.headersTimeoutMs;
      server.requestTimeout = limits.requestTimeoutMs;
      server.keepAliveTimeout = limits.keepAliveTimeoutMs;
    }
    return report;
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // /readyz answers 503 from the first moment of draining (the admin listener closes last).
      gateway.readiness.draining();
      server.close();
      server.closeIdleConnections();
      const deadline = Date.now() + gateway.config.server.shutdownTimeoutMs;
      // In-flight requests include settlements under way: never cut one short before its deadline.
      while (gateway.inFlight.count > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        server.closeIdleConnections();
      }
      if (gateway.inFlight.count > 0) {
        log.warn(
          { inFlight: gateway.inFlight.count },
          'shutdown deadline passed with requests in flight',
        );
      }
      server.closeAllConnections();
      admin?.close();
      admin?.closeAllConnections();
      await gateway.stop();
      log.info('gateway stopped');
      log.flush();
    })();
    return closing;
  };
  return { url, adminUrl, gateway, log, reload, close };
}

/** Swap in `loaded` if valid, log and count the outcome either way. */
function applyReload(gateway: Gateway, loaded: ConfigResult): ReloadReport {
  const { log, metrics } = gateway;
  if (!loaded.ok) {
    for (const problem of loaded.problems) {
      log.error({ path: problem.path, line: problem.line }, `config reload: ${problem.message}`);
    }
    log.error(
      { problems: loaded.problems.length },
      'config reload failed: the running config stays until the file is fixed',
    );
    metrics.configReloads.reloaded('failure');
    return { ok: false, problems: loaded.problems };
  }
  let changed: readonly string[];
  let refused: readonly string[];
  try {
    ({ changed, refused } = gateway.reload(loaded.config));
  } catch (err) {
    const message = `cannot apply the new config: ${err instanceof Error ? err.message : String(err)}`;
    log.error({ err }, `config reload failed: ${message}; the running config stays`);
    metrics.configReloads.reloaded('failure');
    return { ok: false, problems: [{ path: '', message }] };
  }
  if (refused.length > 0) {
    log.warn(
      { keys: refused },
      `config reload: restart-only keys changed and keep their running values until a restart: ${refused.join(', ')}`,
    );
  }
  log.info(
    { changed, refused },
    changed.length === 0 ? 'config reloaded: nothing to change' : 'config reloaded',
  );
  metrics.configReloads.reloaded('success', refused.length);
  return { ok: true, changed, refused };
}

/**
 * One client address may hold only its share of connections (trusted proxies are not counted):
 * past it a new connection is closed at once, before a byte is read, so a flood from one host
 * costs a file descriptor for microseconds, not for headersTimeoutMs. There is no request yet to
 * answer; the warning is logged at most once a second, with how many were closed since.
 */
function refuseOverShare(server: http.Server, gateway: Gateway): void {
  let refused = 0;
  let loggedAt = 0;
  server.on('connection', (socket: Socket) => {
    if (gateway.deps.clients.connect(socket)) return;
    const peer = socket.remoteAddress;
    socket.destroy();
    refused++;
    const now = Date.now();
    if (now - loggedAt < 1000) return;
    gateway.log.warn(
      {
        peer,
        reason: GATEWAY_REASON.clientShareExceeded,
        refused,
        cap: gateway.deps.clients.cap,
      },
      'connection refused: this client address holds its share of connections',
    );
    loggedAt = now;
    refused = 0;
  });
}

/** Rejects with {@link GatewayStartError} naming the address, what it is for, and why. */
function listen(server: http.Server, at: HostPort, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: unknown): void => {
      const error = listenError(err, at.host, at.port, what);
      reject(new GatewayStartError(error.message, { cause: err }));
    };
    server.once('error', failed);
    server.listen(at.port, at.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

function baseUrl(server: http.Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
