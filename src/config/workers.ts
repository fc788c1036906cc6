/**
 * What `server.workers` above 1 needs. Each worker is its own process with its own memory, so
 * whatever must be one for the whole gateway has to live outside them:
 * - the replay claims (`store.redis`): else two workers could each serve one payment;
 * - the book (`ledger.postgres`, or `ledger: false`): SQLite allows one writer process, and a
 *   retry is answered from the book whichever worker it reaches;
 * - a remote facilitator: the built-in one signs with one key and counts that key's nonce in its
 *   process, so two workers would race for nonces. `x402-gateway facilitator` runs it once for all.
 * Checked at validation, so a bad combination never starts (or reloads).
 */
import type { FacilitatorConfig, StoreConfig } from './types.js';

export interface WorkerProblem {
  readonly path: readonly string[];
  readonly message: string;
}

export function workerProblems(input: {
  readonly workers: number;
  readonly store: StoreConfig;
  /** The ledger section as written: false, or which backend it names. */
  readonly ledger: false | { readonly postgres?: unknown };
  readonly facilitator: FacilitatorConfig;
}): WorkerProblem[] {
  const { workers } = input;
  if (workers <= 1) return [];
  const problems: WorkerProblem[] = [];
  const path = ['server', 'workers'];
  if (input.store.redis === null) {
    problems.push({
      path,
      message: `${workers} workers need a shared replay store, or two of them could serve one payment: set store.redis.url (docs/operations.md, "Workers")`,
    });
  }
  if (input.ledger !== false && input.ledger.postgres === undefined) {
    problems.push({
      path,
      message: `${workers} workers need a ledger they can all write: set ledger.postgres.url (a SQLite file has one writer process) (docs/operations.md, "Workers")`,
    });
  }
  if (input.facilitator.kind === 'local') {
    problems.push({
      path,
      message: `${workers} workers cannot share the built-in facilitator's settler key (its nonces are counted in one process): run \`x402-gateway facilitator\` once and set facilitator.url to it (docs/operations.md, "Workers")`,
    });
  }
  return problems;
}
