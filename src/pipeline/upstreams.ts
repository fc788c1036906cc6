/**
 * The upstreams requests are sent to, as the stages use them: each named upstream's forwarder
 * (pool), its header edits and its health, and per route the upstream and path rewrite it goes
 * to, resolved when the routes are compiled so a request finds its target with one array read.
 */
import type { Forwarder, HeaderEdits, PathRewrite, UpstreamHealth } from '../proxy/index.js';

/** One upstream (`upstreams.<name>`, or `default` for a URL in `upstream:`). */
export interface Upstream {
  readonly name: string;
  /** Base URL (origin and optional base path). */
  readonly url: string;
  readonly forwarder: Forwarder;
  /** Headers added and removed; undefined when the upstream has neither (the common case). */
  readonly edits: HeaderEdits | undefined;
  /** Up or down (one per upstream for the process: a reload keeps it). */
  readonly health: UpstreamHealth;
  /** Seconds a payment must have left before validBefore on this upstream's routes (precheck). */
  readonly minRemainingSec: number;
}

/** Where one route's requests go. */
export interface RouteTarget {
  readonly upstream: Upstream;
  readonly rewrite: PathRewrite | undefined;
}

export interface UpstreamSet {
  /** Every upstream, by name. */
  readonly byName: ReadonlyMap<string, Upstream>;
  /** Unpriced paths (`unpriced: forward`) go to the default upstream, unrewritten. */
  readonly unpriced: RouteTarget;
  /** Each priced route's target, by `PricedRoute.index`. */
  readonly routes: readonly RouteTarget[];
}
