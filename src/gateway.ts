/**
 * Composition root: frozen config → every part of the gateway (price table, challenges, facilitator
 * client or the built-in facilitator, replay guard, verify cache, forwarder, metrics, logger) → the
 * pipeline's request handler. Building does no I/O: nothing connects, listens or sends a request.
 *
 * `start()` then brings the parts up in a fixed order, and `stop()` takes them down in reverse:
 *
 *   1. facilitator   the built-in one guards its key and reads the chain id (an HTTP one: nothing)
 *      chain readers the built-in facilitator's RPC reads its own chain unless `rpcUrls` names it;
 *                    every priced network without an RPC is warned about
 *   2. stores        the replay store: in memory (nothing to open), or a shared Redis (`store.redis`):
 *                    connected and its eviction/persistence settings checked; unreachable or
 *                    evicting → start-up fails; then the rate limits' background sync on that Redis
 *                    (its own connection; never fails start-up: without it, per-instance limits)
 *   3. ledger        open the book of record (migrating its schema), then rebuild from it what this
 *                    process must remember: unresolved and settled payments in the replay guard and
 *                    the recall index, revenue and the unresolved counts in the metrics
 *   4. periodic      the reconciler (a first pass at once, bounded; then every interval) and the
 *                    facilitator `/supported` watcher that makes the gateway ready
 *
 * (The forwarder opens its upstream connections on demand; stopping closes its pool.)
 *
 * server.ts listens only after `start()` has resolved, and calls `stop()` after draining.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import { createChainReader, type ChainReader } from './chains/index.js';
import {
  DEFAULT_UPSTREAM_NAME,
  DEFAULTS,
  facilitatorDeadlines,
  facilitatorLabel,
  instanceName,
  planReload,
  type FacilitatorConfig,
  type GatewayConfig,
  type ReloadPlan,
} from './config/index.js';
import { buildLocalFacilitator, watchSettlerBalance } from './facilitator/index.js';
import { createAccessLog, createLogger } from './log/index.js';
import {
  createMetrics,
  createReadiness,
  type GatewayMetrics,
  type Readiness,
} from './metrics/index.js';
import {
  ClientShares,
  RateLimits,
  createHandler,
  createProxyTrust,
  Generations,
  STAGES,
  type Deps,
  type RequestHandler,
  type RouteTarget,
  type Upstream,
  type UpstreamSet,
} from './pipeline/index.js';
import {
  fleetVerdict,
  PostgresLedger,
  SqliteLedger,
  UNRESOLVED_STATES,
  LedgerHealth,
  type LedgerErrorKind,
  type LedgerStore,
  type ReplayStoreKind,
  type RevenueTotal,
} from './ledger/index.js';
import {
  CreditIndex,
  RECONCILE_OUTCOMES,
  RecallIndex,
  RecordsInUse,
  Reconciler,
  restoreFromLedger,
  type PassSummary,
} from './payment/index.js';
import { createPriceTable, type PricedRoute } from './pricing/index.js';
import { createForwarder, headerEdits, UpstreamHealth, type Forwarder } from './proxy/index.js';
import {
  CdpAuth,
  HttpFacilitatorClient,
  InMemoryReplayGuard,
  LOCAL_VERDICTS,
  RedisCounters,
  RedisReplayGuard,
  type ReplayGuard,
  LocalSignatureCheck,
  LruVerifyCache,
  watchFacilitatorPool,
  type FacilitatorClient,
  type FacilitatorPool,
  type PoolMember,
  type WatchedPool,
} from './verify/index.js';
import { createChallenge, type Challenge, type Offer } from './x402/index.js';

/** Seconds the chain needs on top of our own deadlines (the reference facilitator's buffer). */
const CHAIN_BUFFER_SECONDS = 6;

/** Thrown by `start()` when a part cannot come up (the message says why and which key to fix). */
export class GatewayStartError extends Error {
  readonly code = 'GW_ERR_START';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayStartError';
  }
}

/** One part with a life: started in list order, stopped in reverse. */
export interface Service {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface Gateway {
  /** The pipeline as a `node:http` request listener. */
  readonly handler: RequestHandler;
  readonly metrics: GatewayMetrics;
  readonly readiness: Readiness;
  readonly log: Logger;
  /** Requests in the pipeline now (settlements under way included). */
  readonly inFlight: { readonly count: number };
  /** The priced routes new requests see (a reload replaces them). */
  readonly routes: readonly PricedRoute[];
  /** The config new requests see: the loaded one, then each reload's. */
  readonly config: GatewayConfig;
  /** What the stages of a new request are given; tests reach the parts through it. */
  readonly deps: Deps;
  /**
   * Swap in a new config between requests (config/reload.ts): requests in flight finish on the
   * old one, new requests see the new one; restart-only keys keep their running values and are
   * named in the plan's `refused`. Throws (changing nothing) if the new parts cannot be built.
   */
  reload(next: GatewayConfig): ReloadPlan;
  /**
   * One reconciliation pass now (a pass already running is joined), then the unresolved gauges
   * re-read; undefined with `ledger: false`. The admin listener's `POST /ledger/reconcile`.
   */
  readonly reconcile: (() => Promise<PassSummary>) | undefined;
  /** Bring every part up, in the order above. A failure stops what had started and rejects. */
  start(): Promise<void>;
  /** Take every part down in reverse order and release sockets. Idempotent. */
  stop(): Promise<void>;
}

export interface BuildOptions {
  readonly log?: Logger;
  /**
   * A facilitator to use instead of the configured one (tests). The gateway closes it on stop.
   */
  readonly facilitator?: FacilitatorClient;
  readonly nowSec?: () => number;
  /**
   * Start the revenue series from the book's totals (default true), so increase() stays exact
   * across restarts. A cluster worker does not: the primary adds the book's totals once, and each
   * worker counts only what it settles (a sum over workers must not count the book N times).
   */
  readonly seedRevenue?: boolean;
  /** Told the book's revenue totals when the ledger opens (before the gateway serves). */
  readonly onBookRevenue?: (totals: readonly RevenueTotal[]) => void;
}

export function buildGateway(config: GatewayConfig, options: BuildOptions = {}): Gateway {
  const log = options.log ?? createLogger(config.log);
  const inFlight = { count: 0 };
  const metrics = createMetrics({ inFlight });
  // The check runs only while verify failures run high: without these, a fresh gateway's panel
  // has no data and increase() misses the first refusal.
  for (const verdict of LOCAL_VERDICTS) metrics.signatureChecks.labels(verdict);
  const { prices, challenges } = priceRoutes(config, metrics);

  const facilitator: BuiltFacilitator = options.facilitator
    ? {
        client: options.facilitator,
        clients: [options.facilitator],
        start: () => Promise.resolve(),
        chain: () => undefined,
      }
    : buildFacilitator(config);
  const chains = createChainReaders(config);
  const redisStore = buildRedisStore(config, metrics, log);
  const replay: ReplayGuard =
    redisStore ?? new InMemoryReplayGuard({ maxEntries: config.replay.maxEntries });
  const recallIndex = new RecallIndex();
  const recordsInUse = new RecordsInUse();
  const ledgerHealth = new LedgerHealth();
  const ledger = buildLedger(config, metrics, log, ledgerHealth);
  const credits =
    ledger === undefined || config.ledger === false
      ? undefined
      : new CreditIndex(config.ledger.redeemWindowSeconds * 1000, {
          onGrant: () => metrics.credits.labels('granted').inc(),
          inUse: recordsInUse,
        });
  const limits = config.server.limits;
  // One health per upstream for the process (upstreams are restart-only): a reload that rebuilds
  // the pools keeps what each upstream's health has seen.
  const healths = buildHealths(config, metrics, log);
  const upstreamList = buildUpstreams(config, healths);
  const upstreams = targetRoutes(config, upstreamList, prices.routes);
  // Shared by every config generation: a reload changes its rates, never what it remembers.
  const rateLimits = new RateLimits(config.rateLimits);
  metrics.rateLimits.track((limit) => rateLimits.tracked(limit));
  const fleetCounters = buildFleetCounters(config);
  const deps: Deps = {
    config,
    prices,
    challenges,
    facilitator: facilitator.client,
    // The watched pool is built below, before any request; stages only call it once listening.
    facilitators: undefined as unknown as FacilitatorPool,
    chains,
    replay,
    ledger,
    recallIndex,
    recordsInUse,
    credits,
    // The reconciler is built below; a request only calls this once the gateway listens.
    resolveUnknown: credits === undefined ? undefined : (key) => reconciler!.resolve(key),
    verifyCache: new LruVerifyCache({
      maxEntries: config.verifyCache.maxEntries,
      negativeTtlMs: config.verifyCache.negativeTtlMs,
    }),
    // Reads `chains` at each lookup: the built-in facilitator's chain joins it at start.
    signatureCheck: new LocalSignatureCheck({ config: config.signatureCheck, chains }),
    upstreams,
    metrics,
    log,
    accessLog: createAccessLog(log),
    inFlight,
    clients: new ClientShares(
      createProxyTrust(config.server),
      limits.maxInFlight,
      limits.maxClientShare,
    ),
    rateLimits,
    minRemainingSec: minRemainingSec(config),
    nowSec: options.nowSec ?? (() => Math.floor(Date.now() / 1000)),
  };
  // Readiness: one check per dependency (the facilitator watcher registers its own below).
  const readiness = createReadiness();
  readiness.register({
    name: 'ledger',
    affects: 'paid',
    check: () => {
      if (ledger === undefined) return { ok: true, detail: 'no ledger (ledger: false)' };
      const health = ledgerHealth.readiness(ledger.writable);
      return { ok: health.ready, detail: health.detail };
    },
  });
  // Each upstream's health (its periodic check, and what forwarded requests met). Paid scope: while
  // one is down its priced routes answer 503 upstream_down; free routes fail too, but an upstream
  // shared by every instance must not pull them all from the load balancer at once. The default
  // upstream's check keeps its old name, `upstream`; each other is `upstream <name>`.
  const defaultName = defaultUpstreamName(config);
  for (const [name, health] of healths) {
    readiness.register({
      name: name === defaultName ? 'upstream' : `upstream ${name}`,
      affects: 'paid',
      check: () => health.check(),
    });
  }
  // In memory, per process: it cannot fail to answer (past maxEntries it refuses new claims). On
  // Redis: connected and answering within its deadline (a PING a second), else why not.
  readiness.register({
    name: 'replay store',
    affects: 'paid',
    check: () =>
      redisStore?.health() ?? {
        ok: true,
        detail: `in memory, up to ${config.replay.maxEntries} claims`,
      },
  });
  const reconciler =
    ledger === undefined || config.ledger === false
      ? undefined
      : new Reconciler({
          ledger,
          chains,
          confirmations: config.ledger.confirmations,
          settlingGraceMs: settlingGraceMs(config),
          sharedBook: config.ledger.postgres !== undefined,
          recallIndex,
          credits,
          replay,
          log,
          onSettled: (r) =>
            metrics.revenue.labels(r.route, r.network, r.asset, r.payTo).inc(Number(r.amount)),
          onOutcome: (o) => metrics.ledger.reconciled.labels(o).inc(),
        });
  // One /supported watcher per facilitator, and the failover pool the stages call.
  const watch = (
    cfg: GatewayConfig,
    clients: readonly FacilitatorClient[],
    routes: readonly PricedRoute[],
  ): WatchedPool =>
    watchFacilitatorPool(poolMembers(cfg, clients), routes, readiness, metrics, log);
  let watcher = watch(config, facilitator.clients, prices.routes);
  let watching = false;
  const generations = new Generations({ ...deps, facilitators: watcher.pool });
  /** What retired generations still hold, released at their last request (or at stop). */
  const releases = new Set<() => Promise<void>>();

  let ledgerTimer: NodeJS.Timeout | undefined;
  // The built-in facilitator's gas money, for the settler balance alert (not on a request's path).
  const readBalance = facilitator.settlerBalance;
  const balanceWatch =
    readBalance &&
    watchSettlerBalance({
      read: readBalance,
      set: (wei) => metrics.settlerBalance().set(wei),
      onError: (err) => log.warn({ err }, 'cannot read the settler balance'),
    });
  const services: readonly Service[] = [
    {
      name: 'facilitator',
      start: () => facilitator.start(),
      stop: async () => {
        await Promise.all([...releases].map((release) => release()));
        await Promise.all(
          generations.current.deps.facilitators.members.map((m) => m.client.close()),
        );
      },
    },
    {
      name: 'settler balance',
      // The first read is not awaited: a slow RPC must not hold up start-up.
      start: () => void balanceWatch?.start(),
      stop: () => balanceWatch?.stop(),
    },
    {
      name: 'chain readers',
      start: () => {
        addOwnChain(chains, config, facilitator.chain());
        const check = deps.signatureCheck!;
        if (check.active) log.info({ signatureCheck: check.detail }, 'local signature check on');
        else if (config.signatureCheck.enabled) {
          // Enabled but the native binding is missing (arm64 without a prebuild, --ignore-scripts):
          // pure-JS recovery (~2 ms) would cost more than it saves, so it stays off.
          log.warn({ signatureCheck: check.detail }, 'local signature check off');
        }
        for (const network of networksWithoutReader(prices.routes, chains)) {
          log.warn(
            { network },
            'no rpcUrls entry for a priced network: a settlement a facilitator leaves unknown stays settlement_pending',
          );
        }
      },
      stop: () => undefined,
    },
    {
      // Before the ledger: its restore writes the claims it rebuilds into this store.
      // In memory: nothing to open or close (it sweeps expired records as it goes, with no timer).
      name: 'replay store',
      start: async () => {
        if (redisStore === undefined) return;
        // Unreachable → start-up fails: an instance whose every paid request would be refused
        // should not join a fleet, and a wrong URL must not look like a slow Redis.
        await redisStore.connect();
        const settings = await redisStore.checkSettings();
        if (settings.refuse !== undefined) throw new Error(`store.redis: ${settings.refuse}`);
        for (const warning of settings.warnings) {
          log.warn({ store: redisStore.location }, `store.redis: ${warning}`);
        }
        log.info(
          { store: redisStore.location, settings: settings.summary },
          'replay store on redis',
        );
      },
      stop: () => redisStore?.close(),
    },
    {
      // With store.redis: the limits' counts pushed to the fleet's in the background. Never fails
      // start-up: without Redis each instance limits on its own counts (limits fail open).
      name: 'rate limit sync',
      start: () => {
        if (fleetCounters === undefined) return;
        // Not awaited: a Redis that is not there yet only means per-instance limits until it is.
        void fleetCounters.connect();
        let lastLogged = 0;
        rateLimits.startSync(fleetCounters, config.rateLimits.syncIntervalMs, (ok, err) => {
          metrics.rateLimits.synced(ok ? 'ok' : 'failed');
          const now = Date.now();
          if (ok || now - lastLogged < 60_000) return;
          lastLogged = now;
          log.warn(
            {
              store: fleetCounters.location,
              err: err instanceof Error ? err.message : String(err),
            },
            'rate limits cannot sync with redis: each instance limits on its own counts',
          );
        });
      },
      stop: async () => {
        await rateLimits.stopSync();
        await fleetCounters?.close();
      },
    },
    {
      name: 'ledger',
      start: async () => {
        if (ledger === undefined || config.ledger === false) {
          log.warn(
            'ledger: false — payments have no durable record: a crash during a settlement can take money without serving, and revenue starts from 0 on every restart',
          );
          return;
        }
        await ledger.open();
        await joinFleet(ledger, redisStore === undefined ? 'memory' : 'redis', log);
        const { restored } = await restoreFromLedger({
          ledger,
          replay,
          recallIndex,
          credits,
          marginSeconds: config.replay.marginSeconds,
          redeemWindowSeconds: config.ledger.redeemWindowSeconds,
          nowMs: Date.now(),
        });
        // Revenue continues from the book, so increase() stays exact across restarts. On a shared
        // book, from what this instance owns (what it counted before), so a fleet's counters sum
        // to the book: then it adopts (and counts) the paid records no instance counted yet.
        const owner =
          config.ledger.postgres !== undefined ? instanceName(config.server) : undefined;
        const totals = await ledger.revenue(owner === undefined ? {} : { owner });
        const adopted = (await ledger.adopt?.()) ?? [];
        options.onBookRevenue?.(totals);
        // A cluster worker leaves `totals` to its primary (seeded once for all workers) but counts
        // what it adopted itself, as it counts what it settles.
        const counted = options.seedRevenue !== false ? [...totals, ...adopted] : adopted;
        for (const t of counted) {
          metrics.revenue.labels(t.route, t.network, t.asset, t.payTo).inc(Number(t.amount));
        }
        const open = await ledger.unresolved();
        metrics.ledger.unresolved.reset(open.counts);
        metrics.ledger.setOldestUnresolved(open.oldestAt);
        log.info(
          {
            path: ledger.location,
            restored,
            unresolved: open.counts,
            ...(owner === undefined
              ? {}
              : { instance: owner, adopted: adopted.reduce((n, t) => n + t.count, 0) }),
          },
          'ledger open',
        );
      },
      stop: () => ledger?.close(),
    },
    {
      name: 'forwarder',
      start: () => healths.forEach((health) => health.start()),
      stop: async () => {
        await Promise.all([...healths.values()].map((health) => health.stop()));
        await closeUpstreams(generations.current.deps.upstreams);
      },
    },
    {
      name: 'reconciler',
      start: async () => {
        if (reconciler === undefined || config.ledger === false) return;
        const interval = config.ledger.reconcileIntervalSeconds * 1000;
        // The first pass runs now; start-up waits for it a bounded time, then lets it finish.
        const first = reconcileAndMeasure(reconciler, ledger!, metrics, log);
        await Promise.race([
          first,
          new Promise((r) => setTimeout(r, STARTUP_RECONCILE_MS).unref()),
        ]);
        reconciler.start(interval);
        ledgerTimer = setInterval(() => void refreshOldest(ledger!, metrics), interval);
        ledgerTimer.unref();
      },
      stop: async () => {
        clearInterval(ledgerTimer);
        await reconciler?.stop();
      },
    },
    {
      name: 'facilitator watcher',
      start: () => {
        watching = true;
        watcher.start();
      },
      stop: () => {
        watching = false;
        watcher.stop();
      },
    },
  ];

  const reload = (next: GatewayConfig): ReloadPlan => {
    const old = generations.current.deps;
    const plan = planReload(old.config, next);
    if (plan.changed.length === 0) return plan;
    const cfg = plan.config;
    // Everything is built before anything is swapped: a throw here leaves the running config.
    const priced = priceRoutes(cfg, metrics);
    // The plan names what changed (restart-only keys already put back): a part is rebuilt only
    // when one of its own keys is among them. The built-in facilitator never is (restart-only).
    const changed = (keys: readonly string[]): boolean =>
      plan.changed.some((k) => keys.some((key) => k === key || k.startsWith(`${key}.`)));
    const newClients =
      cfg.facilitator.kind === 'http' && changed(['facilitator', 'facilitators'])
        ? cfg.facilitators.map(httpFacilitator)
        : undefined;
    const newWatcher =
      newClients === undefined ? undefined : watch(cfg, newClients, priced.prices.routes);
    // `upstreams` and `upstream` are restart-only (the plan put them back): the same upstreams,
    // their pools rebuilt when a deadline they are built with changed; routes are retargeted.
    const newForwarders = changed(FORWARDER_KEYS) ? buildUpstreams(cfg, healths) : undefined;
    const upstreamsNow = newForwarders ?? old.upstreams.byName;
    let newTargets: UpstreamSet;
    try {
      newTargets = targetRoutes(cfg, upstreamsNow, priced.prices.routes);
    } catch (err) {
      if (newForwarders !== undefined) void closeUpstreams({ byName: newForwarders });
      throw err;
    }
    const newForwarder = newForwarders;
    const fresh: Deps = {
      ...old,
      config: cfg,
      prices: priced.prices,
      challenges: priced.challenges,
      facilitator: newClients?.[0] ?? old.facilitator,
      facilitators: newWatcher?.pool ?? old.facilitators,
      upstreams: newTargets,
      minRemainingSec: minRemainingSec(cfg),
    };
    deps.clients.resize(cfg.server.limits.maxInFlight, cfg.server.limits.maxClientShare);
    rateLimits.configure(cfg.rateLimits);
    if (cfg.log.level !== old.config.log.level) log.level = cfg.log.level;
    if (newWatcher === undefined) watcher.setRoutes(priced.prices.routes);
    else {
      // New facilitators must answer /supported before readiness (and failover) trusts them.
      // Circuits start closed; an unknown settlement's facilitator is carried over by name.
      newWatcher.pool.adoptHolders(old.facilitators);
      watcher.stop();
      watcher = newWatcher;
      if (watching) watcher.start();
    }
    const release = async (): Promise<void> => {
      releases.delete(release);
      const closing: Promise<void>[] = [];
      if (newClients !== undefined) {
        for (const m of old.facilitators.members) closing.push(m.client.close());
      }
      if (newForwarder !== undefined) closing.push(closeUpstreams(old.upstreams));
      try {
        await Promise.all(closing);
      } catch (err) {
        log.warn({ err }, 'closing a replaced facilitator client or forwarder failed');
      }
    };
    releases.add(release);
    generations.swap(fresh, () => void release());
    return plan;
  };

  return {
    handler: createHandler(generations, STAGES),
    metrics,
    readiness,
    log,
    inFlight,
    get routes() {
      return generations.current.deps.prices.routes;
    },
    get config() {
      return generations.current.deps.config;
    },
    get deps() {
      return generations.current.deps;
    },
    reload,
    reconcile:
      reconciler === undefined
        ? undefined
        : async () => {
            const summary = await reconciler.pass();
            await refreshOldest(ledger!, metrics);
            return summary;
          },
    ...withReadiness(lifecycle(services, log), readiness),
  };
}

/** The price table and each priced route's 402 challenge; every offered asset's scale declared. */
function priceRoutes(
  config: GatewayConfig,
  metrics: GatewayMetrics,
): { prices: Deps['prices']; challenges: Map<PricedRoute, Challenge> } {
  const prices = createPriceTable(config.routes);
  const challenges = new Map<PricedRoute, Challenge>();
  for (const route of prices.routes) {
    if (route.free) continue;
    challenges.set(route, createChallenge(route.resource, route.offers));
    // Each paid route's series exist at 0 before its first payment: a counter that first appears
    // holding that payment's amount is missed by increase() (the dashboard's revenue in range).
    metrics.requests.labels(route.id, 'paid');
    metrics.requests.labels(route.id, 'challenge');
    metrics.requests.labels(route.id, 'upstream_down');
    for (const offer of route.offers) {
      metrics.assets.declare(assetLabels(offer));
      metrics.revenue.labels(route.id, offer.network.caip2, offer.asset.address, offer.payTo);
    }
  }
  return { prices, challenges };
}

/** The default upstream's name: `default` for a URL in `upstream:`, else the name it gives. */
function defaultUpstreamName(config: GatewayConfig): string {
  return config.upstreams[config.upstream] === undefined ? DEFAULT_UPSTREAM_NAME : config.upstream;
}

/** Every upstream's name, URL and own section (none for a URL in `upstream:`, run as `default`). */
function upstreamEntries(
  config: GatewayConfig,
): Array<[string, string, GatewayConfig['upstreams'][string] | undefined]> {
  const out: Array<[string, string, GatewayConfig['upstreams'][string] | undefined]> = [];
  if (config.upstreams[config.upstream] === undefined) {
    out.push([DEFAULT_UPSTREAM_NAME, config.upstream, undefined]);
  }
  for (const [name, own] of Object.entries(config.upstreams)) out.push([name, own.url, own]);
  return out;
}

/** Each upstream's health, its series declared up, its changes counted and logged. */
function buildHealths(
  config: GatewayConfig,
  metrics: GatewayMetrics,
  log: Logger,
): Map<string, UpstreamHealth> {
  const out = new Map<string, UpstreamHealth>();
  for (const [name, url, own] of upstreamEntries(config)) {
    const health = own?.health ?? DEFAULTS.upstreams.health;
    metrics.upstreams.declare(name);
    out.set(
      name,
      new UpstreamHealth({
        name,
        url,
        failures: health.failures,
        count5xx: health.count5xx,
        minClients: health.minClients,
        retryAfterSeconds: health.retryAfterSeconds,
        intervalMs: health.intervalMs,
        timeoutMs: health.timeoutMs,
        ...('path' in health && health.path !== undefined ? { path: health.path } : {}),
        ...(own === undefined ? {} : { headers: own.headers }),
        ...(own?.tls === undefined ? {} : { tls: own.tls }),
        onChange: (state, why) => {
          metrics.upstreams.changed(name, state);
          // The reason names addresses and error codes, never a header value.
          if (state === 'down') {
            log.warn({ upstream: name, why }, 'upstream down: its priced routes answer 503');
          } else log.info({ upstream: name, why }, 'upstream up again');
        },
      }),
    );
  }
  return out;
}

/** Every upstream with its own pool: the named ones and, for a URL in `upstream:`, `default`. */
function buildUpstreams(
  config: GatewayConfig,
  healths: ReadonlyMap<string, UpstreamHealth>,
): Map<string, Upstream> {
  const out = new Map<string, Upstream>();
  const limits = config.server.limits;
  const add = (
    name: string,
    url: string,
    own: GatewayConfig['upstreams'][string] | undefined,
  ): void => {
    const timeoutMs = own?.timeoutMs ?? config.upstreamTimeoutMs;
    const forwarder: Forwarder = createForwarder({
      target: url,
      timeoutMs,
      maxSockets: own?.connections ?? DEFAULTS.upstreams.connections,
      bodyIdleTimeoutMs: limits.upstreamBodyIdleTimeoutMs,
      writeIdleTimeoutMs: limits.writeIdleTimeoutMs,
      ...(own?.tls === undefined ? {} : { tls: own.tls }),
    });
    out.set(name, {
      name,
      url,
      forwarder,
      health: healths.get(name)!,
      edits: own === undefined ? undefined : headerEdits(own.headers, own.removeHeaders),
      minRemainingSec: minRemainingSec(config, timeoutMs),
    });
  };
  for (const [name, url, own] of upstreamEntries(config)) add(name, url, own);
  return out;
}

/**
 * Each priced route's upstream and rewrite, by route index. Throws when a route names an upstream
 * this process does not run (a reload that adds one to `upstreams`, which is restart-only).
 */
function targetRoutes(
  config: GatewayConfig,
  byName: ReadonlyMap<string, Upstream>,
  routes: readonly PricedRoute[],
): UpstreamSet {
  const fallback = byName.get(defaultUpstreamName(config))!;
  const targets: RouteTarget[] = routes.map((route) => {
    const name = route.spec.upstream;
    const upstream = name === undefined ? fallback : byName.get(name);
    if (upstream === undefined) {
      throw new Error(
        `route "${route.id}" names upstream "${name}", which this process does not run: ` +
          'upstreams is restart-only, so restart to add it',
      );
    }
    return Object.freeze({ upstream, rewrite: route.spec.rewrite });
  });
  return {
    byName,
    unpriced: Object.freeze({ upstream: fallback, rewrite: undefined }),
    routes: Object.freeze(targets),
  };
}

async function closeUpstreams(set: Pick<UpstreamSet, 'byName'>): Promise<void> {
  await Promise.all([...set.byName.values()].map((u) => u.forwarder.close()));
}

/** The reloadable keys the forwarders are built with (their targets are restart-only). */
const FORWARDER_KEYS = [
  'upstreamTimeoutMs',
  'server.limits.upstreamBodyIdleTimeoutMs',
  'server.limits.writeIdleTimeoutMs',
] as const;

/**
 * What a payment really waits after precheck: verify, the upstream, then the whole settle phase
 * (its one retry included: settleWithRetry is bounded by settleTimeoutMs), plus the chain's buffer.
 */
function minRemainingSec(
  config: GatewayConfig,
  upstreamTimeoutMs: number = defaultUpstreamTimeoutMs(config),
): number {
  return (
    Math.ceil(
      (facilitatorDeadlines(config).verifyTimeoutMs +
        upstreamTimeoutMs +
        facilitatorDeadlines(config).settleTimeoutMs) /
        1000,
    ) + CHAIN_BUFFER_SECONDS
  );
}

/** The default upstream's deadline for its response headers, ms. */
function defaultUpstreamTimeoutMs(config: GatewayConfig): number {
  return config.upstreams[config.upstream]?.timeoutMs ?? config.upstreamTimeoutMs;
}

/** The longest any upstream may take to answer, ms (a Redis claim's lease must outlive it). */
function longestUpstreamTimeoutMs(config: GatewayConfig): number {
  return Math.max(
    config.upstreamTimeoutMs,
    ...Object.values(config.upstreams).map((u) => u.timeoutMs ?? 0),
  );
}

/** Readiness follows the lifecycle: ready to be checked once started, 503 once stopping. */
function withReadiness(
  parts: Pick<Gateway, 'start' | 'stop'>,
  readiness: Readiness,
): Pick<Gateway, 'start' | 'stop'> {
  return {
    start: async () => {
      try {
        await parts.start();
      } catch (err) {
        readiness.failed(err instanceof Error ? err.message : String(err));
        throw err;
      }
      readiness.started();
    },
    stop: () => {
      readiness.draining();
      return parts.stop();
    },
  };
}

/**
 * The chain readers `rpcUrls` names, one per CAIP-2 network. The built-in facilitator's own chain
 * is added by {@link addOwnChain} once its chain id is known. Shared with `ledger reconcile`, which
 * reads the chain for a stopped gateway as the gateway would.
 */
export function createChainReaders(config: GatewayConfig): Map<string, ChainReader> {
  const chains = new Map<string, ChainReader>();
  for (const [network, rpcUrl] of Object.entries(config.rpcUrls)) {
    chains.set(network, createChainReader({ rpcUrl, deadlineMs: chainDeadlineMs(config) }));
  }
  return chains;
}

/** The built-in facilitator's chain, read through its RPC unless `rpcUrls` names that network. */
export function addOwnChain(
  chains: Map<string, ChainReader>,
  config: GatewayConfig,
  own: { readonly network: string; readonly rpcUrl: string } | undefined,
): void {
  if (own === undefined || chains.has(own.network)) return;
  chains.set(
    own.network,
    createChainReader({ rpcUrl: own.rpcUrl, deadlineMs: chainDeadlineMs(config) }),
  );
}

/** The priced networks no chain reader reads: a settlement left unknown there stays unknown. */
export function networksWithoutReader(
  routes: readonly PricedRoute[],
  chains: ReadonlyMap<string, ChainReader>,
): string[] {
  const priced = new Set(routes.flatMap((r) => r.offers.map((o) => o.network.caip2)));
  return [...priced].filter((network) => !chains.has(network));
}

/** A chain lookup runs inside a request (a resumed settlement): bounded like a settle call. */
function chainDeadlineMs(config: GatewayConfig): number {
  return facilitatorDeadlines(config).settleTimeoutMs;
}

/** A settling record younger than a whole settle call may still be in its request. */
export function settlingGraceMs(config: GatewayConfig): number {
  return facilitatorDeadlines(config).settleTimeoutMs * 2 + 5_000;
}

/** Added to a Redis claim's lease on top of the deadlines it covers, ms. */
const LEASE_MARGIN_MS = 10_000;

/**
 * The shared replay store, when `store.redis` is set (no I/O here: `connect()` at start). A claim's
 * lease covers verify + the upstream deadline + a margin; at the settle request it is
 * renewed for the settle phase + the margin. Computed at start-up (the store is restart-only).
 */
function buildRedisStore(
  config: GatewayConfig,
  metrics: GatewayMetrics,
  log: Logger,
): RedisReplayGuard | undefined {
  const redis = config.store.redis;
  if (redis === null) return undefined;
  let lastLogged = 0;
  return new RedisReplayGuard({
    url: redis.url,
    keyPrefix: redis.keyPrefix,
    commandTimeoutMs: redis.commandTimeoutMs,
    claimLeaseMs:
      facilitatorDeadlines(config).verifyTimeoutMs +
      longestUpstreamTimeoutMs(config) +
      LEASE_MARGIN_MS,
    settleLeaseMs: facilitatorDeadlines(config).settleTimeoutMs + LEASE_MARGIN_MS,
    onError: (kind, operation, err) => {
      metrics.store.failed(kind);
      // At most one line a second: an outage must not flood the log (the metric counts them all).
      const now = Date.now();
      if (now - lastLogged < 1_000) return;
      lastLogged = now;
      log.warn({ kind, operation, err: err.message }, 'replay store (redis) failed');
    },
  });
}

/**
 * The fleet's rate-limit counters on the shared store, when `store.redis` is set (no I/O here; a
 * reload may turn the limits on, so they exist either way). Keys under the store's prefix, apart
 * from the claims.
 */
function buildFleetCounters(config: GatewayConfig): RedisCounters | undefined {
  const redis = config.store.redis;
  if (redis === null) return undefined;
  return new RedisCounters({
    url: redis.url,
    keyPrefix: `${redis.keyPrefix}ratelimit:`,
    commandTimeoutMs: redis.commandTimeoutMs,
  });
}

/** How long start-up waits for the first reconciliation pass before listening anyway. */
const STARTUP_RECONCILE_MS = 5_000;

/** The configured book of record, wired to the metrics; undefined with `ledger: false`. */
function buildLedger(
  config: GatewayConfig,
  metrics: GatewayMetrics,
  log: Logger,
  health: LedgerHealth,
): LedgerStore | undefined {
  if (config.ledger === false) return undefined;
  const unresolved = new Set<string>(UNRESOLVED_STATES);
  for (const kind of ['open', 'write', 'read', 'unavailable'] satisfies LedgerErrorKind[]) {
    metrics.ledger.errors.labels(kind);
  }
  for (const o of RECONCILE_OUTCOMES) metrics.ledger.reconciled.labels(o);
  const hooks = health.hooks({
    onWrite: (seconds) => metrics.ledger.writeSeconds.labels().observe(seconds),
    onError: (kind, err) => {
      metrics.ledger.errors.labels(kind).inc();
      log.error({ err, kind }, 'ledger error');
    },
    onMove: (from, to) => {
      if (from !== undefined && unresolved.has(from)) metrics.ledger.unresolved.add(from, -1);
      if (unresolved.has(to)) metrics.ledger.unresolved.add(to, 1);
    },
  });
  // A fleet shares one Postgres database; one host keeps its SQLite file.
  if (config.ledger.postgres !== undefined) {
    let lastLogged = 0;
    return new PostgresLedger({
      url: config.ledger.postgres.url,
      // The owner of what this instance settles: its revenue seed at the next start.
      owner: instanceName(config.server),
      hooks,
      heartbeat: {
        onBeat: (live) => metrics.instances.live(live),
        // Never a paid request's concern: counted, and logged at most once a minute.
        onError: (err) => {
          metrics.instances.beatFailed();
          const now = Date.now();
          if (now - lastLogged < 60_000) return;
          lastLogged = now;
          log.warn({ err: err.message }, 'ledger: cannot refresh this instance’s heartbeat row');
        },
      },
    });
  }
  return new SqliteLedger({ path: config.ledger.sqlite.path, hooks });
}

async function reconcileAndMeasure(
  reconciler: Reconciler,
  ledger: LedgerStore,
  metrics: GatewayMetrics,
  log: Logger,
): Promise<void> {
  try {
    const summary = await reconciler.pass({ startup: true });
    log.info({ summary }, 'reconciliation pass at start-up');
  } catch (err) {
    log.error({ err }, 'reconciliation pass at start-up failed');
  }
  await refreshOldest(ledger, metrics);
}

/**
 * A shared book (Postgres): write this instance's heartbeat row and look at the others. Claims in
 * memory next to another live instance would let one payment be served by both: refused, before
 * anything is restored or served. (Two such instances starting at once both refuse: each writes its
 * row before it reads the others'.) Workers > 1 need store.redis (validation), so they never meet
 * the refusal; each worker is a process with its own row.
 */
async function joinFleet(ledger: LedgerStore, store: ReplayStoreKind, log: Logger): Promise<void> {
  if (ledger.joinFleet === undefined) return;
  // The index the cluster primary gives each worker (src/cli/cluster/primary.ts, WORKER_INDEX_ENV).
  const workerEnv = process.env['X402_WORKER_INDEX'];
  const worker = workerEnv === undefined ? undefined : Number.parseInt(workerEnv, 10);
  const others = await ledger.joinFleet({
    host: os.hostname(),
    pid: process.pid,
    worker: Number.isSafeInteger(worker) ? worker : undefined,
    replayStore: store,
  });
  const verdict = fleetVerdict(store, others);
  if (verdict.refuse !== undefined) throw new GatewayStartError(`ledger: ${verdict.refuse}`);
  for (const warning of verdict.warnings) log.warn({ path: ledger.location }, warning);
  if (others.length > 0) log.info({ others: others.length }, 'other instances live on the ledger');
}

/** The unresolved counts and the oldest one's age, re-read from the book (they drift otherwise). */
async function refreshOldest(ledger: LedgerStore, metrics: GatewayMetrics): Promise<void> {
  try {
    const open = await ledger.unresolved();
    metrics.ledger.unresolved.reset(open.counts);
    metrics.ledger.setOldestUnresolved(open.oldestAt);
  } catch {
    // Counted by the ledger's hooks; the gauges keep their last value.
  }
}

/**
 * start() runs each service's start in order; on a failure it stops every service (in reverse:
 * a failed start may have left sockets half open) and rejects with GatewayStartError naming the
 * service. stop() runs each stop in reverse order, once, logging and going on past a failure.
 */
export function lifecycle(
  services: readonly Service[],
  log: Logger,
): Pick<Gateway, 'start' | 'stop'> {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Every service is stopped, started or not: a failed start may have left sockets half open.
      for (const service of [...services].reverse()) {
        try {
          await service.stop();
        } catch (err) {
          log.warn({ err, service: service.name }, 'stopping a part failed');
        }
      }
    })();
    return stopping;
  };
  const start = async (): Promise<void> => {
    for (const service of services) {
      try {
        await service.start();
      } catch (err) {
        await stop();
        throw err instanceof GatewayStartError
          ? err
          : new GatewayStartError(
              `${service.name}: ${err instanceof Error ? err.message : String(err)}`,
              { cause: err },
            );
      }
    }
  };
  return { start, stop };
}

/** The configured facilitator: the client the stages call, and what start() must do for it. */
interface BuiltFacilitator {
  /** The first facilitator's client. */
  readonly client: FacilitatorClient;
  /** Every facilitator's client, in the list's order (`config.facilitators`). */
  readonly clients: readonly FacilitatorClient[];
  start(): Promise<void>;
  /** The built-in facilitator's chain (CAIP-2) and RPC, once started; undefined for others. */
  chain(): { readonly network: string; readonly rpcUrl: string } | undefined;
  /** The built-in facilitator's settler balance, wei; absent for others. */
  readonly settlerBalance?: () => Promise<bigint>;
}

function buildFacilitator(config: GatewayConfig): BuiltFacilitator {
  const f = config.facilitator;
  if (f.kind === 'local') {
    const local = buildLocalFacilitator({
      rpcUrl: f.rpcUrl,
      privateKey: f.privateKey,
      receiptTimeoutMs: f.receiptTimeoutMs,
      pollingIntervalMs: f.pollingIntervalMs,
      verifyTimeoutMs: f.verifyTimeoutMs,
      settleTimeoutMs: f.settleTimeoutMs,
      // An RPC call never outlives the settle deadline.
      rpcTimeoutMs: Math.min(10_000, f.settleTimeoutMs),
    });
    let started = false;
    return {
      client: local,
      clients: [local],
      chain: () => (started ? { network: `eip155:${local.chainId}`, rpcUrl: f.rpcUrl } : undefined),
      settlerBalance: () => local.settlerBalance(),
      start: () =>
        local.start().then(
          () => {
            started = true;
          },
          (err: unknown) => {
            const why = err instanceof Error ? err.message : String(err);
            throw new GatewayStartError(
              `facilitator.local: cannot start the built-in facilitator: ${why}`,
              { cause: err },
            );
          },
        ),
    };
  }
  const clients = config.facilitators.map(httpFacilitator);
  return {
    client: clients[0]!,
    clients,
    start: () => Promise.resolve(),
    chain: () => undefined,
  };
}

/** The failover pool's members: each facilitator's client with its label, deadlines and circuit. */
function poolMembers(config: GatewayConfig, clients: readonly FacilitatorClient[]): PoolMember[] {
  return config.facilitators.map((f, i) => ({
    label: facilitatorLabel(f, i),
    client: clients[i]!,
    verifyTimeoutMs: f.verifyTimeoutMs,
    settleTimeoutMs: f.settleTimeoutMs,
    supportedRefreshMs: f.supportedRefreshMs,
    // The built-in facilitator runs alone: its circuit only turns its faults into quick 503s.
    breakerFailures: f.kind === 'http' ? f.breakerFailures : DEFAULTS.facilitator.breakerFailures,
    breakerHalfOpenAfterMs:
      f.kind === 'http' ? f.breakerHalfOpenAfterMs : DEFAULTS.facilitator.breakerHalfOpenAfterMs,
  }));
}

function httpFacilitator(f: FacilitatorConfig): HttpFacilitatorClient {
  if (f.kind !== 'http') throw new Error('not an HTTP facilitator');
  // Coinbase's facilitator: a JWT per call, for that call's method and URL (the key is imported
  // once, on the first call; the config has already checked it).
  const cdp = f.cdp === undefined ? undefined : new CdpAuth(f.cdp);
  return new HttpFacilitatorClient({
    url: f.url,
    verifyTimeoutMs: f.verifyTimeoutMs,
    settleTimeoutMs: f.settleTimeoutMs,
    supportedTimeoutMs: f.supportedTimeoutMs,
    headers: { ...f.headers },
    maxSockets: f.maxSockets,
    ...(cdp === undefined ? {} : { requestHeaders: (method, url) => cdp.headers(method, url) }),
  });
}

/**
 * An offer's asset as `asset_scale` labels it: the same network and asset values as
 * `revenue_atomic_total`. The symbol is `USDC` for a network's built-in USDC, else the asset's
 * EIP-712 name (the config names no symbol).
 */
function assetLabels(offer: Offer): {
  network: string;
  asset: string;
  symbol: string;
  decimals: number;
} {
  const usdc = offer.network.usdc;
  const isUsdc = usdc !== null && usdc.address.toLowerCase() === offer.asset.address.toLowerCase();
  return {
    network: offer.network.caip2,
    asset: offer.asset.address,
    symbol: isUsdc ? 'USDC' : offer.asset.name,
    decimals: offer.asset.decimals,
  };
}
