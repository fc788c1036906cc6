/**
 * What a reload may change. A running gateway swaps in a new config between requests (SIGHUP or
 * `--watch`), but only the keys below: prices and routes, timeouts, the log level, the rate limits
 * and the facilitator's address. Everything else holds a socket, a file, a pool or a process-wide
 * store that cannot be swapped under requests in flight, so a change to it is refused by name: it
 * keeps its running value, the rest of the file applies, and the operator restarts to take it.
 * docs/operations.md lists both sets.
 */
import type { GatewayConfig } from './types.js';

/**
 * Keys a reload applies, as dotted config paths (a path covers everything under it). `routes`
 * holds each route's price, payTo, asset, network, description and settle mode (the YAML's
 * `payment:` defaults are folded into them when loading).
 */
export const RELOADABLE_KEYS: readonly string[] = Object.freeze([
  'routes',
  'unpriced',
  'log.level',
  'upstreamTimeoutMs',
  'server.shutdownTimeoutMs',
  'server.limits.maxInFlight',
  'server.limits.maxClientShare',
  'server.limits.headersTimeoutMs',
  'server.limits.requestTimeoutMs',
  'server.limits.keepAliveTimeoutMs',
  'server.limits.bodyIdleTimeoutMs',
  'server.limits.writeIdleTimeoutMs',
  'server.limits.upstreamBodyIdleTimeoutMs',
  // The HTTP facilitator only: a new client is built and the old one closed once idle. The
  // built-in one (facilitator.local) holds the settler key and its nonces: restart-only whole.
  'facilitator.url',
  'facilitator.headers',
  'facilitator.verifyTimeoutMs',
  'facilitator.settleTimeoutMs',
  'facilitator.supportedTimeoutMs',
  // Credentials, like headers: the new client mints with the new key.
  'facilitator.cdp',
  'facilitator.name',
  'facilitator.breakerFailures',
  'facilitator.breakerHalfOpenAfterMs',
  // The failover list, as a whole: reordered, edited, entries added or removed. New clients,
  // circuits and /supported watchers are built for the new list; the old ones close once idle.
  'facilitators',
  // The buckets keep their tokens; only the rates and sizes change (pipeline/rate-limits.ts).
  'rateLimits.enabled',
  'rateLimits.challengesPerSecond',
  'rateLimits.failuresPerMinute',
]);

/**
 * Restart-only keys, named as an operator finds them in the YAML (a change under one is refused
 * with that name). Every config key is either here or in {@link RELOADABLE_KEYS}; a test holds it.
 */
export const RESTART_ONLY_KEYS: readonly string[] = Object.freeze([
  'server.listen',
  'server.admin',
  'server.publicUrl',
  'server.trustProxy',
  'server.trustedProxies',
  'server.dropUnderscoreHeaders',
  'server.workers',
  'server.instance',
  'server.limits.maxHeaderBytes',
  'server.limits.maxBodyBytes',
  'server.limits.refusedBodyBytes',
  'server.limits.maxPaymentHeaderBytes',
  'facilitator.local',
  'facilitator.maxSockets',
  'facilitator.supportedRefreshMs',
  'upstream',
  // Pools, TLS material and each upstream's health are per process; a route's own `upstream` and
  // `rewrite` are part of `routes` and reload (naming only upstreams the process runs).
  'upstreams',
  'verifyCache',
  'signatureCheck',
  'replay',
  'store',
  'rpcUrls',
  'ledger',
  // The tables are allocated at their full size once; the sync timer runs from start to stop.
  'rateLimits.maxTrackedAddresses',
  'rateLimits.syncIntervalMs',
]);

/** A new config as it applies to a running gateway. */
export interface ReloadPlan {
  /** The config to run: `next`, with every refused key at its running value. */
  readonly config: GatewayConfig;
  /** Reloadable keys whose value changed (what this reload does). */
  readonly changed: readonly string[];
  /** Restart-only keys whose value changed: not applied, kept at their running value. */
  readonly refused: readonly string[];
}

/** Compare `next` with the running `current`: what applies, and what waits for a restart. */
export function planReload(current: GatewayConfig, next: GatewayConfig): ReloadPlan {
  const changed: string[] = [];
  const refused: string[] = [];
  let config: GatewayConfig = next;
  const kind = (c: GatewayConfig): string => c.facilitator.kind;
  // A list of one is the `facilitator:` section, told key by key; a longer list (on either side)
  // is one key, `facilitators`.
  const single = current.facilitators.length === 1 && next.facilitators.length === 1;
  const diffs = differences(current, next).filter(([path]) =>
    single ? path !== 'facilitators' : !path.startsWith('facilitator.'),
  );
  for (const [path, running] of diffs) {
    // Switching between an HTTP and the built-in facilitator, or any change to the built-in one,
    // is one restart-only key: the settler key and its in-flight nonces live in this process.
    const name =
      (path.startsWith('facilitator.') || path === 'facilitators') &&
      (kind(current) === 'local' || kind(next) === 'local')
        ? 'facilitator.local'
        : path;
    if (isReloadable(name)) {
      changed.push(name);
      continue;
    }
    if (!refused.includes(name)) refused.push(name);
    config =
      name === 'facilitator.local'
        ? withFacilitator(config, current)
        : withValue(config, path, running);
  }
  if (single && config.facilitators[0] !== config.facilitator) {
    // A refused `facilitator.*` key was put back: the list of one follows it.
    config = Object.freeze({ ...config, facilitators: Object.freeze([config.facilitator]) });
  }
  return { config, changed, refused };
}

function isReloadable(path: string): boolean {
  return RELOADABLE_KEYS.some((key) => path === key || path.startsWith(`${key}.`));
}

function isNamedKey(path: string): boolean {
  return (
    RELOADABLE_KEYS.includes(path) ||
    RESTART_ONLY_KEYS.includes(path) ||
    path === 'facilitator.kind'
  );
}

/**
 * Where two configs differ, as [path, running value], one per named key (a key of
 * {@link RELOADABLE_KEYS} or {@link RESTART_ONLY_KEYS}) or, below none, per differing leaf.
 */
function differences(current: unknown, next: unknown, path = ''): Array<[string, unknown]> {
  if (path !== '' && isNamedKey(path)) return equal(current, next) ? [] : [[path, current]];
  if (!isPlainObject(current) || !isPlainObject(next)) {
    return equal(current, next) ? [] : [[path, current]];
  }
  const out: Array<[string, unknown]> = [];
  const keys = new Set([...Object.keys(current), ...Object.keys(next)]);
  for (const key of keys) {
    out.push(...differences(current[key], next[key], path === '' ? key : `${path}.${key}`));
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of config values (plain objects, arrays, strings, numbers, bigints). */
export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((v, i) => equal(v, other[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  return keys.every((k) => Object.prototype.hasOwnProperty.call(y, k) && equal(x[k], y[k]));
}

/** `config` with the value at dotted `path` replaced (copies along the path, frozen). */
function withValue(config: GatewayConfig, path: string, value: unknown): GatewayConfig {
  const set = (node: unknown, keys: readonly string[]): unknown => {
    if (keys.length === 0) return value;
    const [head, ...rest] = keys as [string, ...string[]];
    const object = (node ?? {}) as Record<string, unknown>;
    const copy: Record<string, unknown> = { ...object, [head]: set(object[head], rest) };
    if (copy[head] === undefined) delete copy[head];
    return Object.freeze(copy);
  };
  return set(config, path.split('.')) as GatewayConfig;
}

/** `config` with the running facilitator section (the built-in one is restart-only whole). */
function withFacilitator(config: GatewayConfig, current: GatewayConfig): GatewayConfig {
  return Object.freeze({
    ...config,
    facilitator: current.facilitator,
    facilitators: current.facilitators,
  });
}
