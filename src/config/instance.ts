/**
 * This gateway instance's name on a shared (Postgres) ledger: the owner written on each record it
 * moves to settled, whose totals seed its revenue counter at start-up (docs/ledger.md §8). It must
 * stay the same across restarts of the instance and differ between instances, or a fleet's sum of
 * counters drifts from the book: `server.instance` when set, else `HOSTNAME:PORT` (the paid
 * listener's port: two instances on one host cannot share it). The workers of one process share
 * the name (their primary seeds the counter once). A port of 0 is picked anew at each start: the
 * name then falls back to the (primary) process id, distinct but not stable; set
 * `server.instance` there.
 */
import os from 'node:os';
import type { ServerConfig } from './types.js';

/** What the default name is made of (the running process's, unless a test gives its own). */
export interface InstanceFacts {
  readonly host: string;
  /** The process that owns the listener: the cluster primary for a worker, else this one. */
  readonly pid: number;
}

/** A cluster worker's primary is its parent (src/cli/cluster/primary.ts sets the index). */
function processFacts(): InstanceFacts {
  const worker = process.env['X402_WORKER_INDEX'] !== undefined;
  return { host: os.hostname(), pid: worker ? process.ppid : process.pid };
}

export function instanceName(
  server: Pick<ServerConfig, 'instance' | 'listen'>,
  facts: InstanceFacts = processFacts(),
): string {
  if (server.instance !== null) return server.instance;
  const port = server.listen.port;
  return port === 0 ? `${facts.host}:0:pid${facts.pid}` : `${facts.host}:${port}`;
}
