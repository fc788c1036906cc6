/**
 * Readiness: ask the facilitator what it supports once the gateway starts; that answer makes the
 * gateway ready, and any configured network it does not list is reported. While it is down, retry
 * in the background with a capped backoff; the gateway meanwhile fails closed (503) on paid routes.
 * Building the watcher does no I/O: `start()` sends the first request.
 */
import type { Logger } from 'pino';
import type { GatewayMetrics, Readiness } from '../metrics/index.js';
import type { PricedRoute } from '../pricing/index.js';
import type { FacilitatorClient, SupportedResponse } from './types.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;

export function watchFacilitatorSupport(
  facilitator: FacilitatorClient,
  routes: readonly PricedRoute[],
  readiness: Readiness,
  metrics: GatewayMetrics,
  log: Logger,
): { start(): void; stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = FIRST_RETRY_MS;

  const attempt = async (): Promise<void> => {
    const result = await facilitator.supported();
    if (stopped) return;
    metrics.facilitatorRequests
      .labels('supported', result.kind === 'ok' ? 'ok' : result.failure)
      .inc();
    if (result.kind === 'ok') {
      metrics.facilitatorUp.set(1);
      readiness.ready = true;
      readiness.detail = 'ok';
      for (const problem of unsupportedOffers(result.value, routes))
        log.warn(problem, 'facilitator does not support a configured network');
      log.info({ kinds: result.value.kinds.length }, 'facilitator /supported answered');
      return;
    }
    metrics.facilitatorUp.set(0);
    readiness.detail = `facilitator /supported failed: ${result.failure}`;
    log.warn(
      { failure: result.failure, detail: result.detail, retryInMs: delay },
      'facilitator /supported failed',
    );
    timer = setTimeout(() => void attempt(), delay);
    timer.unref();
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  };
  return {
    start() {
      if (!stopped) void attempt();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/** Configured (version, network) pairs the facilitator does not list, one entry per network. */
export function unsupportedOffers(
  supported: SupportedResponse,
  routes: readonly PricedRoute[],
): Array<{ network: string; x402Version: number; routes: string[] }> {
  const listed = new Set(
    supported.kinds.filter((k) => k.scheme === 'exact').map((k) => `${k.x402Version}|${k.network}`),
  );
  const missing = new Map<string, { network: string; x402Version: number; routes: string[] }>();
  for (const route of routes) {
    for (const offer of route.offers) {
      for (const [version, network] of [
        [1, offer.network.v1Name],
        [2, offer.network.caip2],
      ] as const) {
        const key = `${version}|${network}`;
        if (listed.has(key)) continue;
        const entry = missing.get(key) ?? { network, x402Version: version, routes: [] };
        entry.routes.push(route.id);
        missing.set(key, entry);
      }
    }
  }
  return [...missing.values()];
}
