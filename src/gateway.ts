/**
 * Composition root: frozen config → price table, challenges, facilitator client, replay guard,
 * verify cache, forwarder, metrics, logger → the pipeline. It only wires; each part builds itself.
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from './config/types.js';
import { createAccessLog } from './access-log.js';
import { createLogger } from './log.js';
import { createMetrics, type GatewayMetrics } from './metrics/registry.js';
import type { Readiness } from './metrics/server.js';
import type { Deps } from './pipeline/deps.js';
import { createHandler, type RequestHandler } from './pipeline/run.js';
import { STAGES } from './pipeline/stages.js';
import { createPriceTable } from './pricing/index.js';
import type { PricedRoute } from './pricing/types.js';
import { createForwarder } from './proxy/forwarder.js';
import { LruVerifyCache } from './verify/cache.js';
import { HttpFacilitatorClient } from './verify/facilitator.js';
import { InMemoryReplayGuard } from './verify/replay.js';
import type { FacilitatorClient } from './verify/types.js';
import { createChallenge, type Challenge } from './x402/challenge.js';
import { watchFacilitatorSupport } from './supported.js';

/** Seconds the chain needs on top of our own deadlines (the reference facilitator's buffer). */
const CHAIN_BUFFER_SECONDS = 6;

export interface GatewayParts {
  readonly deps: Deps;
  readonly handler: RequestHandler;
  readonly metrics: GatewayMetrics;
  readonly readiness: Readiness;
  /** Stop background work and release sockets. */
  close(): Promise<void>;
}

export interface BuildOptions {
  readonly log?: Logger;
  /**
   * A facilitator to use instead of the configured one (tests; startGateway passes the built-in one
   * it creates for `facilitator.local`). The gateway closes it on shutdown.
   */
  readonly facilitator?: FacilitatorClient;
  readonly nowSec?: () => number;
}

export function buildGateway(config: GatewayConfig, options: BuildOptions = {}): GatewayParts {
  const log = options.log ?? createLogger(config.log);
  const inFlight = { count: 0 };
  const metrics = createMetrics({ inFlight });
  const prices = createPriceTable(config.routes);
  const challenges = new Map<PricedRoute, Challenge>();
  for (const route of prices.routes) if (!route.free) challenges.set(route, createChallenge(route));

  const facilitator = options.facilitator ?? createFacilitatorClient(config);
  const forwarder = createForwarder({
    target: config.upstream,
    timeoutMs: config.upstreamTimeoutMs,
  });
  const deps: Deps = {
    config,
    prices,
    challenges,
    facilitator,
    replay: new InMemoryReplayGuard({ maxEntries: config.replay.maxEntries }),
    verifyCache: new LruVerifyCache({
      maxEntries: config.verifyCache.maxEntries,
      negativeTtlMs: config.verifyCache.negativeTtlMs,
    }),
    forwarder,
    metrics,
    log,
    accessLog: createAccessLog(log),
    inFlight,
    minRemainingSec:
      Math.ceil((config.upstreamTimeoutMs + config.facilitator.settleTimeoutMs) / 1000) +
      CHAIN_BUFFER_SECONDS,
    nowSec: options.nowSec ?? (() => Math.floor(Date.now() / 1000)),
  };
  const readiness: Readiness = { ready: false, detail: 'waiting for the facilitator /supported answer' };
  const watcher = watchFacilitatorSupport(facilitator, prices.routes, readiness, metrics, log);

  return {
    deps,
    handler: createHandler(deps, STAGES),
    metrics,
    readiness,
    async close() {
      watcher.stop();
      await forwarder.close();
      await facilitator.close();
    },
  };
}

function createFacilitatorClient(config: GatewayConfig): FacilitatorClient {
  const f = config.facilitator;
  if (f.kind === 'local') {
    // Building it needs the chain (async): startGateway does it and passes it in.
    throw new Error('facilitator.local: the built-in facilitator is created by startGateway; pass options.facilitator');
  }
  return new HttpFacilitatorClient({
    url: f.url,
    verifyTimeoutMs: f.verifyTimeoutMs,
    settleTimeoutMs: f.settleTimeoutMs,
    supportedTimeoutMs: f.supportedTimeoutMs,
    headers: { ...f.headers },
    maxSockets: f.maxSockets,
  });
}
