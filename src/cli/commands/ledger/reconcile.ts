/**
 * `ledger reconcile`: one reconciliation pass (payment/reconcile.ts), now, two ways.
 *
 * - `--admin URL`: asks the running gateway (`POST URL/ledger/reconcile` on its admin listener):
 *   its own reconciler runs the pass (or the pass under way is joined), so its revenue metric,
 *   replay guard and recall index see every move.
 * - `--config FILE [--ledger PATH]`: against a stopped gateway, on the ledger file, with the chain
 *   readers the gateway would use (`rpcUrls`, and `facilitator.local.rpcUrl` for the chain it
 *   answers `eth_chainId` with). Every move is a compare-and-set, so it is safe beside a running
 *   gateway too, but that gateway's revenue metric never sees what this pass moved (it counts from
 *   the book again at its next start). When a gateway answers on the config's fixed admin port, the
 *   command says so and, like the gateway's own passes, leaves young `settling` records alone.
 *   A config whose ledger is in Postgres (`ledger.postgres`) is the fleet's shared book: the pass
 *   runs through the store the gateways use (each move a compare-and-set under the record's row
 *   lock, so of this pass and an instance's reconciler exactly one moves a record) and always
 *   leaves young `settling` records alone (a live instance's request may hold one).
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { readNetwork } from '../../../chains/index.js';
import type { HostPort } from '../../../config/index.js';
import {
  addOwnChain,
  createChainReaders,
  networksWithoutReader,
  settlingGraceMs,
} from '../../../gateway.js';
import {
  PostgresLedger,
  SqliteLedger,
  type LedgerState,
  type LedgerStore,
  type WriteResult,
} from '../../../ledger/index.js';
import {
  RECONCILE_OUTCOMES,
  RecallIndex,
  Reconciler,
  type PassSummary,
} from '../../../payment/index.js';
import { createPriceTable } from '../../../pricing/index.js';
import { InMemoryReplayGuard } from '../../../verify/index.js';
import { UsageError } from '../../flags.js';
import { assertLedgerFile, oneLine, PATH_OPTIONS, write, type LedgerIo } from './common.js';
import { table } from './format.js';
import { loadLedgerConfig, targetName, targetOf, type LedgerTarget } from './path.js';
import { LedgerProblem } from './problem.js';

/** One record this pass moved (offline only: the gateway's own pass logs its moves). */
export interface ReconcileMove {
  readonly key: string;
  readonly from: LedgerState | undefined;
  readonly to: LedgerState;
  readonly transaction?: string | undefined;
  readonly detail?: string | undefined;
}

/** What the command prints with `--json`: `ledger` (offline) or `admin` names where it ran. */
export interface ReconcileResult {
  readonly ledger?: string;
  readonly admin?: string;
  readonly outcomes: PassSummary;
  /** Offline only. */
  readonly moved?: readonly ReconcileMove[];
}

/** How long a probe of the config's admin port for a running gateway may take. */
const PROBE_MS = 1_000;

export async function runReconcile(args: readonly string[], io: LedgerIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ...PATH_OPTIONS,
      admin: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) {
    throw new UsageError(`reconcile takes no argument: "${positionals[0]}"`);
  }
  let result: ReconcileResult;
  if (values.admin !== undefined) {
    if (values.ledger !== undefined || values.config !== undefined) {
      throw new UsageError(
        '--admin asks the running gateway: it takes no --ledger or --config (those reconcile offline)',
      );
    }
    result = await viaAdmin(adminEndpoint(values.admin));
  } else {
    if (values.config === undefined) {
      throw new UsageError(
        'reconcile needs --admin URL (a running gateway) or --config FILE (its RPCs; the ledger ' +
          'is its ledger.sqlite.path or ledger.postgres.url, or --ledger PATH)',
      );
    }
    if (values.ledger?.trim() === '') throw new UsageError('--ledger needs a path');
    result = await offline(values.config, values.ledger, io);
  }
  await write(io.stdout, values.json ? `${JSON.stringify(result, null, 2)}\n` : text(result));
  return 0;
}

/** `URL/ledger/reconcile`, from the admin listener's base URL. */
function adminEndpoint(base: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(
      `--admin must be the admin listener's URL (http://HOST:PORT), not "${base}"`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--admin must be an http(s) URL, not "${base}"`);
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ledger/reconcile`;
  url.search = '';
  url.hash = '';
  return url;
}

async function viaAdmin(endpoint: URL): Promise<ReconcileResult> {
  const admin = endpoint.href.slice(0, -'/ledger/reconcile'.length);
  let response: Response;
  try {
    response = await fetch(endpoint, { method: 'POST' });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    throw new LedgerProblem(
      `cannot reach the gateway's admin listener at ${admin}: ${oneLine(cause ?? error)}`,
    );
  }
  const body = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const said = (parsed as { error?: unknown } | undefined)?.error;
  if (response.status === 404) {
    throw new LedgerProblem(
      typeof said === 'string' && said.startsWith('no ledger')
        ? `the gateway at ${admin} runs without a ledger (ledger: false): nothing to reconcile`
        : `${endpoint.href} answered 404: not an x402-gateway admin listener, or one older than this command`,
    );
  }
  if (!response.ok) {
    const why = typeof said === 'string' ? said : `HTTP ${response.status}`;
    throw new LedgerProblem(`the gateway at ${admin} could not reconcile: ${why}`);
  }
  const outcomes = (parsed as { outcomes?: unknown } | undefined)?.outcomes;
  if (!isSummary(outcomes)) {
    throw new LedgerProblem(`${endpoint.href} answered 200 without the outcome counts`);
  }
  return { admin, outcomes };
}

function isSummary(value: unknown): value is PassSummary {
  if (typeof value !== 'object' || value === null) return false;
  const counts = value as Record<string, unknown>;
  return RECONCILE_OUTCOMES.every((o) => Number.isInteger(counts[o]));
}

async function offline(
  configFile: string,
  ledgerFlag: string | undefined,
  io: LedgerIo,
): Promise<ReconcileResult> {
  const config = await loadLedgerConfig(configFile);
  const target: LedgerTarget =
    ledgerFlag !== undefined ? { kind: 'sqlite', path: ledgerFlag } : targetOf(config.ledger);
  if (target.kind === 'sqlite') assertLedgerFile(target.path);
  const path = targetName(target);
  const shared = target.kind === 'postgres';

  const chains = createChainReaders(config);
  if (config.facilitator.kind === 'local') {
    const rpcUrl = config.facilitator.rpcUrl;
    try {
      const network = await readNetwork(
        rpcUrl,
        Math.min(10_000, config.facilitator.settleTimeoutMs),
      );
      addOwnChain(chains, config, { network, rpcUrl });
    } catch (error) {
      await warn(
        io,
        `cannot read the chain id of facilitator.local.rpcUrl (${rpcUrl}): ${oneLine(shortError(error))}`,
      );
    }
  }
  if (chains.size === 0) {
    throw new LedgerProblem(
      `no network has an RPC URL in ${configFile}: give rpcUrls entries (CAIP-2 network → URL) ` +
        'or a facilitator.local.rpcUrl that answers',
    );
  }
  for (const network of networksWithoutReader(createPriceTable(config.routes).routes, chains)) {
    await warn(io, `no RPC for ${network}: its unresolved records stay as they are (no_rpc)`);
  }

  const running = await runningGateway(config.server.admin);
  if (shared) {
    await warn(
      io,
      "the ledger is the fleet's shared Postgres book: this pass is safe beside running instances " +
        '(every move is a compare-and-set; young settling records are left to them), but no ' +
        "running gateway's revenue metric counts what it settles (the next instance to start adopts " +
        "and counts it); prefer: ledger reconcile --admin URL of one instance's admin listener",
    );
  } else if (running !== undefined) {
    await warn(
      io,
      `a gateway answers at ${running}: this pass is safe beside it (every move is a ` +
        'compare-and-set) and leaves settling records its requests may hold alone, but its revenue ' +
        `metric will not count what this pass settles; prefer: ledger reconcile --admin ${running}`,
    );
  }

  // Postgres: a small pool, the schema never migrated, no heartbeat row (a command is no instance).
  const ledger: LedgerStore =
    target.kind === 'sqlite'
      ? new SqliteLedger({ path: target.path })
      : new PostgresLedger({ url: target.url, maxConnections: 2, migrate: false });
  try {
    await ledger.open();
  } catch (error) {
    // The Postgres store's message names the database (without its password) itself.
    throw new LedgerProblem(
      shared ? oneLine(error) : `cannot open the ledger at ${path}: ${oneLine(error)}`,
    );
  }
  const moved: ReconcileMove[] = [];
  try {
    const reconciler = new Reconciler({
      ledger: recordingMoves(ledger, moved),
      chains,
      confirmations: config.ledger.confirmations,
      settlingGraceMs: settlingGraceMs(config),
      sharedBook: shared,
      // Nothing of a running gateway's memory is reachable from here: these are thrown away.
      recallIndex: new RecallIndex(),
      replay: new InMemoryReplayGuard({ maxEntries: config.replay.maxEntries }),
      onSettled: () => undefined,
      onOutcome: () => undefined,
      // Problems only (a failed lookup, a disputed payment); the moves are printed below.
      log: pino(
        { level: 'warn', base: undefined },
        { write: (line: string) => io.stderr.write(line) },
      ),
    });
    // A stopped gateway's requests hold no settling record: none is left alone (as at start-up).
    // On a shared book (sharedBook) the grace always applies: another instance may be running.
    const outcomes = await reconciler.pass({ startup: running === undefined });
    return { ledger: path, outcomes, moved };
  } finally {
    await ledger.close();
  }
}

/** The base URL of a gateway answering `/healthz` on `admin`, if the port is fixed and one does. */
async function runningGateway(admin: HostPort): Promise<string | undefined> {
  if (admin.port === 0) return undefined;
  const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '::1' : admin.host;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${admin.port}`;
  try {
    const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(PROBE_MS) });
    const body = (await response.json()) as { status?: unknown };
    return response.ok && body.status === 'ok' ? base : undefined;
  } catch {
    return undefined;
  }
}

/** `ledger`, with every change that moved a record also pushed onto `moves`. */
function recordingMoves(ledger: LedgerStore, moves: ReconcileMove[]): LedgerStore {
  const change: LedgerStore['change'] = async (key, from, change, by, note) => {
    const result: WriteResult = await ledger.change(key, from, change, by, note);
    if (result.kind === 'changed' && result.changed) {
      moves.push({
        key,
        from: result.from,
        to: change.state,
        ...(change.transaction === undefined ? {} : { transaction: change.transaction }),
        ...(change.detail === undefined ? {} : { detail: change.detail }),
      });
    }
    return result;
  };
  return new Proxy(ledger, {
    get(target, property) {
      if (property === 'change') return change;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

function text(result: ReconcileResult): string {
  const where =
    result.admin !== undefined
      ? `gateway ${result.admin}: one reconciliation pass, by the gateway's own reconciler`
      : `ledger ${result.ledger}: one reconciliation pass, offline`;
  let out = `${where}\n${table(
    [['OUTCOME', 'COUNT'], ...RECONCILE_OUTCOMES.map((o) => [o, String(result.outcomes[o])])],
    new Set([1]),
  )}`;
  if (result.moved === undefined) return out;
  if (result.moved.length === 0) return `${out}\nno record moved\n`;
  out += `\n${table([
    ['KEY', 'FROM', 'TO', 'TRANSACTION', 'DETAIL'],
    ...result.moved.map((m) => [m.key, m.from ?? '', m.to, m.transaction ?? '', m.detail ?? '']),
  ])}`;
  return out;
}

async function warn(io: LedgerIo, message: string): Promise<void> {
  await write(io.stderr, `ledger reconcile: warning: ${message}\n`);
}

/** viem's short message when it has one (its full message runs over many lines). */
function shortError(error: unknown): unknown {
  return (error as { shortMessage?: unknown }).shortMessage ?? error;
}
