/**
 * Is the upstream reachable? A TCP connect to its host and port every few seconds, for readiness:
 * the answer is read on every `/readyz` probe, so it must be known beforehand (checks do no I/O).
 * A connect, not an HTTP request: the upstream's own logs and rate limits never see the gateway's
 * health checks, and "accepts connections" is what a proxy can know without an endpoint to call.
 */
import { connect } from 'node:net';

/** Probe this often, ms. */
const PROBE_INTERVAL_MS = 5_000;
/** A connect slower than this is a failure, ms. */
const PROBE_TIMEOUT_MS = 2_000;
/** Failures in a row before the upstream counts as unreachable (one lost SYN is not an outage). */
const FAILURES_TO_DOWN = 2;

export interface UpstreamProbe {
  /** The readiness answer: reachable, or why not (with the address). */
  check(): { ok: boolean; detail: string };
  start(): void;
  stop(): void;
}

export function probeUpstream(
  target: string,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): UpstreamProbe {
  const url = new URL(target);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const where = `${host}:${port}`;
  const intervalMs = options.intervalMs ?? PROBE_INTERVAL_MS;
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  let failures = 0;
  let lastError = '';
  let probed = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const once = async (): Promise<void> => {
    const error = await tcpConnect(host, port, timeoutMs);
    probed = true;
    if (error === undefined) failures = 0;
    else {
      failures++;
      lastError = error;
    }
  };

  const loop = async (): Promise<void> => {
    await once();
    if (stopped) return;
    timer = setTimeout(() => void loop(), intervalMs);
    timer.unref();
  };

  return {
    check() {
      if (!probed) return { ok: true, detail: `${where}: not probed yet` };
      if (failures >= FAILURES_TO_DOWN) {
        return {
          ok: false,
          detail: `${where} unreachable (${lastError}, ${failures} probes in a row): paid requests would verify, then fail upstream`,
        };
      }
      if (failures > 0) {
        return {
          ok: true,
          detail: `${where}: the last probe failed (${lastError}), probing again`,
        };
      }
      return { ok: true, detail: `${where} accepts connections` };
    },
    start() {
      if (timer === undefined && !stopped) void loop();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

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
