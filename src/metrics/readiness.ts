/**
 * Readiness a load balancer can act on: a small registry of checks, one per dependency, and the
 * gateway's own lifecycle (starting, started, failed to start, draining).
 *
 * A check that `affects: 'all'` makes the whole gateway unready (503) while it fails. One that
 * `affects: 'paid'` (the facilitator, the ledger, a shared store) only turns `paid.ok` false with
 * its reason: `/readyz` stays 200 so free routes stay in the pool, and `/readyz?scope=paid` answers
 * 503 for operators who route paid traffic separately. Draining and a failed start are 503 for
 * every scope.
 *
 * Checks are read on every probe (they are cheap and do no I/O); registering one under a name
 * already used replaces it.
 */

export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
}

export interface ReadinessCheck {
  /** Key in the `checks` object of `/readyz`, e.g. `facilitator`, `ledger`. */
  readonly name: string;
  /** `all`: the gateway cannot serve anything while it fails; `paid`: only paid routes. */
  readonly affects: 'all' | 'paid';
  check(): CheckResult;
}

export interface PaidReadiness {
  readonly ok: boolean;
  /** One `name: detail` per failing check that affects paid routes (or everything). */
  readonly reasons: readonly string[];
  /** Same as `ok` (the shape before 0.2; kept for existing probes). */
  readonly ready: boolean;
  /** The reasons joined, or `ok` (the shape before 0.2). */
  readonly detail: string;
}

export interface ReadyzBody {
  readonly ready: boolean;
  /** Why not ready, or `ok`. */
  readonly detail: string;
  readonly paid: PaidReadiness;
  readonly checks: Readonly<
    Record<
      string,
      { readonly ok: boolean; readonly affects: 'all' | 'paid'; readonly detail: string }
    >
  >;
}

type Phase =
  | { readonly kind: 'starting' }
  | { readonly kind: 'started' }
  | { readonly kind: 'failed'; readonly detail: string }
  | { readonly kind: 'draining' };

export interface Readiness {
  /** Whether `/readyz` answers 200 (started, not draining, every `all` check ok). */
  readonly ready: boolean;
  /** Why not ready, or `ok`. */
  readonly detail: string;
  /** Whether paid requests can be served now, and why not. */
  paid(): PaidReadiness;
  /** Add (or replace, by name) a dependency's check. */
  register(check: ReadinessCheck): void;
  /** The gateway's parts are up. */
  started(): void;
  /** A part could not start: 503 with this detail. */
  failed(detail: string): void;
  /** Shutdown began: 503 from now on. */
  draining(): void;
  /** The `/readyz` body. */
  snapshot(): ReadyzBody;
}

export function createReadiness(): Readiness {
  const checks = new Map<string, ReadinessCheck>();
  let phase: Phase = { kind: 'starting' };

  const evaluate = (): Array<ReadinessCheck & CheckResult> =>
    [...checks.values()].map((c) => {
      let result: CheckResult;
      try {
        result = c.check();
      } catch (err) {
        result = { ok: false, detail: `check failed: ${(err as Error).message}` };
      }
      return { ...c, ok: result.ok, detail: result.detail };
    });

  const lifecycle = (): CheckResult => {
    switch (phase.kind) {
      case 'starting':
        return { ok: false, detail: 'starting' };
      case 'started':
        return { ok: true, detail: 'started' };
      case 'failed':
        return { ok: false, detail: `failed to start: ${phase.detail}` };
      case 'draining':
        return { ok: false, detail: 'draining: shutting down' };
    }
  };

  const state = (results: Array<ReadinessCheck & CheckResult>) => {
    const own = lifecycle();
    const blocking = results.filter((r) => !r.ok && r.affects === 'all');
    const ready = own.ok && blocking.length === 0;
    const detail = !own.ok
      ? own.detail
      : blocking.length > 0
        ? blocking.map((r) => `${r.name}: ${r.detail}`).join('; ')
        : 'ok';
    const reasons = [
      ...(own.ok ? [] : [`gateway: ${own.detail}`]),
      ...results.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`),
    ];
    const paid: PaidReadiness = {
      ok: reasons.length === 0,
      reasons,
      ready: reasons.length === 0,
      detail: reasons.length === 0 ? 'ok' : reasons.join('; '),
    };
    return { ready, detail, paid };
  };

  return {
    get ready() {
      return state(evaluate()).ready;
    },
    get detail() {
      return state(evaluate()).detail;
    },
    paid: () => state(evaluate()).paid,
    register(check) {
      checks.set(check.name, check);
    },
    started() {
      if (phase.kind === 'starting') phase = { kind: 'started' };
    },
    failed(detail) {
      if (phase.kind !== 'draining') phase = { kind: 'failed', detail };
    },
    draining() {
      phase = { kind: 'draining' };
    },
    snapshot() {
      const results = evaluate();
      const own = lifecycle();
      const checks: Record<string, ReadyzBody['checks'][string]> = {
        gateway: { ok: own.ok, affects: 'all', detail: own.detail },
      };
      for (const r of results) checks[r.name] = { ok: r.ok, affects: r.affects, detail: r.detail };
      return { ...state(results), checks };
    },
  };
}
