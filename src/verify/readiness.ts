/**
 * Readiness: ask the facilitator what it supports once the gateway starts; that answer makes the
 * gateway ready. While it is down, retry in the background with a capped backoff; the gateway
 * meanwhile fails closed (503) on paid routes. Once ready, `/supported` is read again every
 * `refreshMs` (and soon after a refusal that is not the payer's fault), so a facilitator that stops
 * (or starts again) listing a configured network shows.
 *
 * The paid-side problems it reports (`paidProblems()`, for the readiness' paid section): each
 * configured network the last `/supported` answer lists in no x402 version (one version missing
 * is only warned: the other still pays), and each network on
 * which the facilitator refused a payment for a reason that is not the payer's (verdicts.ts). Such
 * a refusal is reported until a verify on that network gets a verdict on the payment itself, or
 * for `refreshMs` after it was last seen.
 *
 * Building the watcher does no I/O: `start()` sends the first request.
 */
import type { Logger } from 'pino';
import type { GatewayMetrics, ReadinessCheck } from '../metrics/index.js';
import type { PricedRoute } from '../pricing/index.js';
import type { FacilitatorClient, SupportedResponse } from './types.js';

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30_000;
/** Default period of the `/supported` re-read once ready (facilitator.supportedRefreshMs). */
export const DEFAULT_REFRESH_MS = 60_000;
/** A refusal asks for an early re-read, at most this often. */
const MIN_REREAD_MS = 5_000;

/** What the verify stage tells the watcher about the facilitator's verdicts. */
export interface FacilitatorVerdicts {
  /** The facilitator refused a payment on `network` (CAIP-2) for a reason not the payer's. */
  refused(network: string, reason: string): void;
  /** A verdict on the payment itself for `network`: the facilitator serves that network. */
  accepted(network: string): void;
}

export interface FacilitatorWatch extends FacilitatorVerdicts {
  start(): void;
  stop(): void;
  /** The priced routes changed (a reload): the last answer is checked against them now. */
  setRoutes(routes: readonly PricedRoute[]): void;
  /** Paid-side problems now, one sentence each; empty when there are none. */
  paidProblems(): string[];
  /**
   * Whether the last `/supported` answer lists `exact` on `network` (the v1 name for version 1,
   * CAIP-2 for 2); undefined while it never answered (failover, verify/failover.ts).
   */
  lists(x402Version: number, network: string): boolean | undefined;
  /** The last `/supported` answer, if any. */
  lastAnswer(): SupportedResponse | undefined;
  /** Read `/supported` again now, unless it was read in the last few seconds. */
  recheck(): void;
  /** Why `/supported` never answered yet (undefined once it has). */
  waiting(): string | undefined;
}

export interface WatchOptions {
  /** Re-read `/supported` this often once ready, ms; 0 = never. Default 60 s. */
  readonly refreshMs?: number;
  /** Clock, epoch ms (tests). */
  readonly now?: () => number;
  /**
   * Register the `facilitator` readiness check (default true). A failover list registers one
   * check for all its watchers instead (verify/failover-readiness.ts).
   */
  readonly register?: boolean;
  /** The facilitator's label in logs (a failover list's entry). */
  readonly label?: string;
}

export function watchFacilitatorSupport(
  facilitator: FacilitatorClient,
  initialRoutes: readonly PricedRoute[],
  readiness: { register(check: ReadinessCheck): void },
  metrics: GatewayMetrics,
  log: Logger,
  options: WatchOptions = {},
): FacilitatorWatch {
  const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
  if (options.label !== undefined) log = log.child({ facilitator: options.label });
  /** Networks the last answer lists for `exact`, per x402 version (1, 2): no string built per ask. */
  let listed: readonly [ReadonlySet<string>, ReadonlySet<string>] | undefined;
  const now = options.now ?? Date.now;
  let routes = initialRoutes;
  /** The last `/supported` answer, checked again when the routes change. */
  let lastAnswer: SupportedResponse | undefined;
  let stopped = false;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = FIRST_RETRY_MS;
  let lastAttemptMs = -Infinity;
  /** Whether `/supported` ever answered; before that, paid requests cannot be verified. */
  let answered = false;
  let lastFailure: string | undefined;
  let unsupported: ReturnType<typeof unsupportedOffers> = [];
  /** Configured networks the last answer lists in no version at all: a paid-side problem. */
  let unlisted: ReturnType<typeof unlistedNetworks> = [];
  /** Network → the last refusal there that was not the payer's. */
  const refusals = new Map<string, { reason: string; atMs: number }>();

  const schedule = (ms: number): void => {
    if (stopped) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void attempt();
    }, ms);
    timer.unref();
  };

  const attempt = async (): Promise<void> => {
    if (running || stopped) return;
    running = true;
    lastAttemptMs = now();
    let result;
    try {
      result = await facilitator.supported();
    } finally {
      running = false;
    }
    if (stopped) return;
    metrics.facilitatorRequests
      .labels('supported', result.kind === 'ok' ? 'ok' : result.failure)
      .inc();
    if (result.kind === 'ok') {
      metrics.facilitatorUp.set(1);
      const first = !answered;
      answered = true;
      lastFailure = undefined;
      delay = FIRST_RETRY_MS;
      lastAnswer = result.value;
      const exact = result.value.kinds.filter((k) => k.scheme === 'exact');
      listed = [
        new Set(exact.filter((k) => k.x402Version === 1).map((k) => k.network)),
        new Set(exact.filter((k) => k.x402Version === 2).map((k) => k.network)),
      ];
      checkRoutes(result.value);
      if (first) log.info({ kinds: result.value.kinds.length }, 'facilitator /supported answered');
      if (refreshMs > 0) schedule(refreshMs);
      return;
    }
    metrics.facilitatorUp.set(0);
    // Once answered, a blip shows in metrics; it does not flip readiness (the last answer stands).
    if (!answered) lastFailure = `facilitator /supported failed: ${result.failure}`;
    log.warn(
      { failure: result.failure, detail: result.detail, retryInMs: delay },
      'facilitator /supported failed',
    );
    schedule(answered && refreshMs > 0 ? Math.min(delay, refreshMs) : delay);
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  };

  /** The routes against an answer: what is unsupported, warned once per (version, network). */
  const checkRoutes = (answer: SupportedResponse): void => {
    const previous = new Set(unsupported.map((u) => `${u.x402Version}|${u.network}`));
    unsupported = unsupportedOffers(answer, routes);
    unlisted = unlistedNetworks(answer, routes);
    for (const problem of unsupported) {
      if (!previous.has(`${problem.x402Version}|${problem.network}`)) {
        log.warn(problem, 'facilitator does not support a configured network');
      }
    }
  };

  const live = (atMs: number): boolean => refreshMs <= 0 || now() - atMs < refreshMs;

  const paidProblems = (): string[] => {
    const problems: string[] = [];
    for (const u of unlisted) {
      problems.push(`/supported does not list ${u.network}, needed by ${u.routes.join(', ')}`);
    }
    for (const [network, r] of refusals) {
      if (!live(r.atMs)) continue;
      problems.push(`refuses payments on ${network}: ${r.reason} (not the payer's fault)`);
    }
    return problems;
  };

  // Paid routes only: free ones are served whatever the facilitator says.
  if (options.register !== false)
    readiness.register({
      name: 'facilitator',
      affects: 'paid',
      check: () => {
        if (!answered) {
          return {
            ok: false,
            detail: lastFailure ?? 'waiting for the facilitator /supported answer',
          };
        }
        const problems = paidProblems();
        return problems.length === 0
          ? { ok: true, detail: 'ok' }
          : { ok: false, detail: problems.join('; ') };
      },
    });

  return {
    start() {
      if (!stopped) void attempt();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
    setRoutes(next) {
      routes = next;
      if (lastAnswer !== undefined) checkRoutes(lastAnswer);
    },
    refused(network, reason) {
      const known = refusals.get(network);
      refusals.set(network, { reason, atMs: now() });
      if (known === undefined || known.reason !== reason) {
        log.warn(
          { network, reason },
          "facilitator refused a payment for a reason that is not the payer's: paid requests on this network get 503",
        );
      }
      // Has it stopped listing the network? Ask now rather than at the next period.
      if (answered && !running && now() - lastAttemptMs >= MIN_REREAD_MS) schedule(0);
    },
    accepted(network) {
      if (refusals.size !== 0 && refusals.delete(network)) {
        log.info({ network }, 'facilitator accepts payments on this network again');
      }
    },
    paidProblems,
    lists(x402Version, network) {
      if (listed === undefined) return undefined;
      return (x402Version === 1 ? listed[0] : listed[1]).has(network);
    },
    lastAnswer: () => lastAnswer,
    recheck() {
      if (answered && !running && now() - lastAttemptMs >= MIN_REREAD_MS) schedule(0);
    },
    waiting: () =>
      answered ? undefined : (lastFailure ?? 'waiting for the facilitator /supported answer'),
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

/**
 * Configured networks (CAIP-2) the facilitator lists for `exact` in no x402 version at all, with
 * the routes that price them.
 */
export function unlistedNetworks(
  supported: SupportedResponse,
  routes: readonly PricedRoute[],
): Array<{ network: string; routes: string[] }> {
  const listed = new Set(
    supported.kinds.filter((k) => k.scheme === 'exact').map((k) => `${k.x402Version}|${k.network}`),
  );
  const missing = new Map<string, { network: string; routes: string[] }>();
  for (const route of routes) {
    for (const offer of route.offers) {
      const { v1Name, caip2 } = offer.network;
      if (listed.has(`1|${v1Name}`) || listed.has(`2|${caip2}`)) continue;
      const entry = missing.get(caip2) ?? { network: caip2, routes: [] };
      if (!entry.routes.includes(route.id)) entry.routes.push(route.id);
      missing.set(caip2, entry);
    }
  }
  return [...missing.values()];
}
