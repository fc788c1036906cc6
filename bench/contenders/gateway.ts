/**
 * The system under test: `node <RUNTIME_NODE_FLAGS> dist/cli/main.js --config <generated yaml>` (the CLI
 * entry, see entry(), with the flags it ships with: src/cli/runtime-flags.ts). Built with tsc when dist/
 * is missing (BENCH_GATEWAY_BUILD); skipped with a message when it cannot be built or started.
 * BENCH_GATEWAY_NODE_FLAGS=none runs it with node's defaults instead.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { treeCpuSeconds } from '../cpu.js';
import { readLoopLag } from '../loop-lag.js';
import { freePort, httpGet, startProcess, waitReady } from '../proc.js';
import { commandCounts, redisMissing, startRedis, type BenchRedis } from '../redis.js';
import { RUNTIME_NODE_FLAGS } from '../../src/cli/runtime-flags.js';
import { gatewayYaml } from './gateway-config.js';
import { trialStart } from './node-server.js';
import type { Contender, Harness, StartOptions, Sut } from './types.js';

let built = false;

/**
 * The gateway's process entry: dist/cli/main.js (src/cli/main.ts runs the CLI and exits with its
 * code). BENCH_GATEWAY_CLI overrides, e.g. to run an older checkout's build (its dist/main.js).
 */
function entry(h: Harness): string {
  if (h.env.gatewayCli !== '') return path.resolve(h.root, h.env.gatewayCli);
  return path.join(h.root, 'dist', 'cli', 'main.js');
}

function build(h: Harness): string | null {
  const cli = entry(h);
  const wanted =
    h.env.gatewayBuild === 'always' || (h.env.gatewayBuild === 'missing' && !fs.existsSync(cli));
  if (wanted && !built) {
    built = true;
    if (!fs.existsSync(path.join(h.root, 'src', 'cli', 'main.ts'))) {
      return `gateway not built and src/cli/main.ts does not exist (looked for ${path.relative(h.root, cli)})`;
    }
    console.log('[bench] building the gateway: tsc -p tsconfig.json …');
    const tsc = path.join(h.root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
      cwd: h.root,
      encoding: 'utf8',
      timeout: 300_000,
    });
    if (r.status !== 0) {
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(0, 8).join('\n');
      return `gateway build failed (tsc exit ${r.status}):\n${out}`;
    }
  }
  return fs.existsSync(cli) ? null : `gateway entry ${path.relative(h.root, cli)} not found`;
}

async function start(h: Harness, opts: StartOptions = {}): Promise<Sut> {
  return startAt(h, entry(h), 'gateway', opts);
}

/** The same build with `ledger: false`: the ledger's cost is the gap between the two rows. */
async function startWithoutLedger(h: Harness, opts: StartOptions = {}): Promise<Sut> {
  return startAt(h, entry(h), 'gateway-noledger', opts, false);
}

/** How a contender's gateway differs from the plain one. */
interface Variant {
  /** `store.redis` against a fresh redis-server per SUT process (the pool's payments are reused). */
  readonly redis?: boolean;
  /** `server.workers`; > 1 runs unpinned (see gatewayWorkers2) unless `pinWorkers`. */
  readonly workers?: number;
  /** Pin the whole tree (primary and workers) to the SUT's one CPU (gatewayWorkers2Pinned). */
  readonly pinWorkers?: boolean;
}

/**
 * A fresh redis-server for one SUT process, on the harness's CPU (it is a dependency, like the
 * upstream): each SUT process replays the same signed pool, so a shared Redis would refuse it.
 */
async function redisFor(h: Harness): Promise<BenchRedis> {
  return startRedis(h.tmp, h.sutCpu === null ? null : h.env.harnessCpu);
}

/** Commands the replay store's Lua scripts run inside Redis (INFO counts them too): not round trips. */
const SCRIPT_INNER = new Set([
  'time',
  'hset',
  'hmget',
  'hget',
  'hdel',
  'exists',
  'pexpireat',
  'del',
]);

/**
 * What the gateway asked of Redis over one SUT's life, divided by the settlements the facilitator
 * stub saw in the same span (reset before each SUT start): Redis calls per paid request, and
 * redis-server's own CPU (not in the SUT's figure: another process).
 */
async function redisReport(
  label: string,
  h: Harness,
  redis: BenchRedis,
  cpu0: number | null,
): Promise<void> {
  try {
    const calls = commandCounts(await redis.info('commandstats'));
    const cpu1 = treeCpuSeconds(redis.pid);
    const stats = JSON.parse((await httpGet(h.facilitatorPort, '/__stats')).body) as {
      settle?: number;
    };
    // The stub is reset before each measured SUT, not before a contender's trial start: a trial
    // (no paid request, no script run) would divide by the previous SUT's settlements.
    const settled = (calls.evalsha ?? 0) + (calls.eval ?? 0) > 0 ? (stats.settle ?? 0) : 0;
    const per = (n: number): string => (settled > 0 ? ` (${(n / settled).toFixed(2)}/paid)` : '');
    const list = (inner: boolean): string =>
      Object.entries(calls)
        .filter(([name]) => name !== 'info' && SCRIPT_INNER.has(name) === inner)
        .map(([name, n]) => `${name} ${n}${per(n)}`)
        .join(', ');
    const cpu =
      cpu0 !== null && cpu1 !== null && settled > 0
        ? `; redis-server CPU ${(((cpu1 - cpu0) * 1e6) / settled).toFixed(1)} µs/paid`
        : '';
    console.log(
      `[bench] ${label} redis: ${settled} settled; commands sent: ${list(false)}; run inside the scripts: ${list(true)}${cpu}`,
    );
  } catch (e) {
    console.log(`[bench] ${label} redis: no commandstats (${(e as Error).message})`);
  }
}

/** The gateway whose entry script is `cli`, on a generated config. */
async function startAt(
  h: Harness,
  cli: string,
  label: string,
  opts: StartOptions = {},
  withLedger = true,
  variant: Variant = {},
): Promise<Sut> {
  const redis = variant.redis === true ? await redisFor(h) : undefined;
  const redisCpu0 = redis === undefined ? null : treeCpuSeconds(redis.pid);
  const [port, adminPort] = [await freePort(), await freePort()];
  const file = path.join(h.tmp, `gateway-${port}.yaml`);
  fs.writeFileSync(
    file,
    gatewayYaml({
      port,
      adminPort,
      facilitatorPort: h.facilitatorPort,
      upstreamPort: h.upstreamPort,
      routes: opts.routes ?? 0,
      logLevel: h.env.gatewayLogLevel,
      // A fresh book per SUT process: one run never restores another's records.
      ledger: withLedger ? path.join(h.tmp, `gateway-${port}.sqlite`) : false,
      // A base from before `rateLimits` refuses the key (its default limits would refuse the bench's
      // one client): BENCH_BASE_NO_RATE_LIMITS=1 leaves it out for gateway-base.
      rateLimits: !(label === 'gateway-base' && process.env.BENCH_BASE_NO_RATE_LIMITS === '1'),
      redisUrl: redis?.url,
      workers: variant.workers,
    }),
  );
  const flags = process.env.BENCH_GATEWAY_NODE_FLAGS === 'none' ? [] : RUNTIME_NODE_FLAGS;
  const m = startProcess(
    label,
    process.execPath,
    [...flags, ...h.env.sutNodeArgs, cli, '--config', file],
    {
      // Workers pinned to the SUT's one CPU would measure nothing: they share both CPUs with the
      // harness (RESULTS.md says so next to their figures).
      cpu: (variant.workers ?? 1) > 1 && variant.pinWorkers !== true ? null : h.sutCpu,
      cwd: h.root,
    },
  );
  try {
    await waitReady(m, port, '/free', 30_000);
  } catch (e) {
    await m.stop();
    await redis?.stop();
    throw e;
  }
  return {
    port,
    pid: m.pid,
    output: () => m.output(),
    loopLag: () => readLoopLag(adminPort),
    async stop() {
      await m.stop();
      if (redis === undefined) return;
      await redisReport(label, h, redis, redisCpu0);
      await redis.stop();
    },
  };
}

export const gateway: Contender = {
  name: 'gateway',
  defaults: ['free', '402', 'paid-v2', 'paid-v1', 'paid-v2-slow'],
  supports: ['free', '402', 'paid-v2', 'paid-v1', 'paid-v2-slow', 'paid-v1-slow'],
  async prepare(h) {
    const why = build(h);
    if (why) return why;
    const flags =
      process.env.BENCH_GATEWAY_NODE_FLAGS === 'none' ? '' : `${RUNTIME_NODE_FLAGS.join(' ')} `;
    console.log(
      `[bench] gateway: node ${flags}${path.relative(h.root, entry(h))} --config <generated yaml>`,
    );
    return trialStart(() => start(h));
  },
  start,
};

/**
 * The same gateway built from another checkout (BENCH_BASE_GATEWAY_CLI, e.g. a worktree of the base
 * commit: `<worktree>/dist/main.js` or `dist/cli/main.js`), on the same generated config, so a
 * branch is measured against its base in one run. Skipped when the variable is unset.
 */
export const gatewayBase: Contender = {
  name: 'gateway-base',
  defaults: ['free', '402', 'paid-v2', 'paid-v1'],
  supports: ['free', '402', 'paid-v2', 'paid-v1', 'paid-v2-slow', 'paid-v1-slow'],
  prepare(h) {
    const cli = h.env.baseGatewayCli;
    if (cli === '') return Promise.resolve('BENCH_BASE_GATEWAY_CLI is not set');
    if (!fs.existsSync(cli)) return Promise.resolve(`base gateway entry ${cli} not found`);
    console.log(`[bench] gateway-base: node ${cli} --config <generated yaml>`);
    return trialStart(() => startAt(h, cli, 'gateway-base'));
  },
  start: (h, opts) => startAt(h, h.env.baseGatewayCli, 'gateway-base', opts),
};

/** The gateway without its ledger (`ledger: false`), for the ledger's own cost in the same run. */
export const gatewayNoLedger: Contender = {
  name: 'gateway-noledger',
  defaults: ['free', '402', 'paid-v2', 'paid-v1'],
  supports: ['free', '402', 'paid-v2', 'paid-v1', 'paid-v2-slow', 'paid-v1-slow'],
  async prepare(h) {
    const why = build(h);
    if (why) return why;
    return trialStart(() => startWithoutLedger(h));
  },
  start: startWithoutLedger,
};

/** Start one of the Redis-store variants (ledger: false: the store's cost alone). */
function redisContender(name: string, variant: Variant, why: string): Contender {
  const start = (h: Harness, opts: StartOptions = {}): Promise<Sut> =>
    startAt(h, entry(h), name, opts, false, variant);
  return {
    name,
    defaults: ['free', '402', 'paid-v2'],
    supports: ['free', '402', 'paid-v2', 'paid-v1', 'paid-v2-slow', 'paid-v1-slow'],
    async prepare(h) {
      const missing = redisMissing();
      if (missing) return `${missing}: ${name} needs a redis-server`;
      const built = build(h);
      if (built) return built;
      console.log(`[bench] ${name}: ${why}`);
      return trialStart(() => start(h));
    },
    start,
  };
}

/**
 * gateway-noledger with `store.redis` (a redis-server per SUT process, on the harness's CPU): the
 * Redis replay store's cost per paid request is the gap between the two rows.
 */
export const gatewayNoLedgerRedis = redisContender(
  'gateway-noledger-redis',
  { redis: true },
  'ledger: false, store.redis (redis-server on the harness CPU, no AOF)',
);

/**
 * gateway-noledger-redis with `server.workers: 2` (the primary and two workers; CPU is the whole
 * process tree's). Not pinned: two workers on one CPU would measure nothing, so on a 2-CPU machine
 * they share both CPUs with the load generator, the upstream, the facilitator stub and Redis.
 * `ledger: false`: workers need a shared ledger (Postgres) or none; this row has none.
 */
export const gatewayWorkers2 = redisContender(
  'gateway-workers2',
  { redis: true, workers: 2 },
  'server.workers: 2, ledger: false, store.redis; NOT pinned: shares both CPUs with the harness',
);

/**
 * gateway-workers2 with the primary and both workers pinned to the SUT's one CPU. Its req/s says
 * nothing (two workers on one core); its CPU µs per request, beside gateway-noledger-redis's in
 * the same run, is what worker mode itself costs a request, apart from the CPU contention the
 * unpinned row suffers.
 */
export const gatewayWorkers2Pinned = redisContender(
  'gateway-workers2-pinned',
  { redis: true, workers: 2, pinWorkers: true },
  'server.workers: 2, ledger: false, store.redis; primary and workers pinned to the SUT CPU (read its CPU per request, not its req/s)',
);
