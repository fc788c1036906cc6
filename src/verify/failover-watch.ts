/**
 * The failover list's `/supported` watchers (readiness.ts, one per facilitator) and its one
 * readiness check. A list of one keeps the single facilitator's check as it always was. A longer
 * list is ready for paid requests once one facilitator answered, and reports as a paid-side
 * problem each configured network that no facilitator which answered lists (such a route answers
 * 503 no_facilitator_for_network); one facilitator's own troubles (down, refusing a network) are
 * shown in the detail without failing the check, since the others carry the payments.
 */
import type { Logger } from 'pino';
import type { GatewayMetrics, ReadinessCheck } from '../metrics/index.js';
import type { PricedRoute } from '../pricing/index.js';
import { FacilitatorPool, type MemberOptions } from './failover.js';
import { unlistedNetworks, watchFacilitatorSupport, type FacilitatorWatch } from './readiness.js';
import type { SupportedResponse } from './types.js';

/** One facilitator of the list, before its watcher exists. */
export type PoolMember = Omit<MemberOptions, 'lists' | 'verdicts'> & {
  /** Its `/supported` re-read period, ms. */
  readonly supportedRefreshMs: number;
};

export interface WatchedPool {
  readonly pool: FacilitatorPool;
  start(): void;
  stop(): void;
  setRoutes(routes: readonly PricedRoute[]): void;
}

export function watchFacilitatorPool(
  members: readonly PoolMember[],
  routes: readonly PricedRoute[],
  readiness: { register(check: ReadinessCheck): void },
  metrics: GatewayMetrics,
  log: Logger,
): WatchedPool {
  const single = members.length === 1;
  const watchers: FacilitatorWatch[] = members.map((m) =>
    watchFacilitatorSupport(m.client, routes, readiness, metrics, log, {
      refreshMs: m.supportedRefreshMs,
      register: single,
      ...(single ? {} : { label: m.label }),
    }),
  );
  const pool = new FacilitatorPool(
    members.map((m, i) => {
      const watcher = watchers[i]!;
      return {
        ...m,
        lists: (version: number, network: string) => watcher.lists(version, network),
        verdicts: watcher,
        recheck: () => watcher.recheck(),
      };
    }),
    metrics.facilitators,
    log,
  );
  let current = routes;
  if (!single) {
    readiness.register({
      name: 'facilitator',
      affects: 'paid',
      check: () => listCheck(members, watchers, current),
    });
  }
  return {
    pool,
    start: () => watchers.forEach((w) => w.start()),
    stop: () => watchers.forEach((w) => w.stop()),
    setRoutes(next) {
      current = next;
      for (const w of watchers) w.setRoutes(next);
    },
  };
}

function listCheck(
  members: readonly { readonly label: string }[],
  watchers: readonly FacilitatorWatch[],
  routes: readonly PricedRoute[],
): { ok: boolean; detail: string } {
  const kinds: SupportedResponse['kinds'][number][] = [];
  const notes: string[] = [];
  watchers.forEach((w, i) => {
    const label = members[i]!.label;
    const answer = w.lastAnswer();
    if (answer === undefined) notes.push(`${label}: ${w.waiting() ?? 'no /supported answer'}`);
    else kinds.push(...answer.kinds);
    for (const problem of w.paidProblems()) notes.push(`${label}: ${problem}`);
  });
  if (kinds.length === 0 && watchers.every((w) => w.lastAnswer() === undefined)) {
    return { ok: false, detail: `no facilitator answered /supported yet (${notes.join('; ')})` };
  }
  const problems = unlistedNetworks({ kinds }, routes).map(
    (u) => `no facilitator lists ${u.network}, needed by ${u.routes.join(', ')}`,
  );
  if (problems.length > 0) return { ok: false, detail: [...problems, ...notes].join('; ') };
  return { ok: true, detail: notes.length === 0 ? 'ok' : `ok; ${notes.join('; ')}` };
}
