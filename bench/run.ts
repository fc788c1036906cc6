/**
 * Benchmark entry point: `node --import tsx bench/run.ts [--smoke | --soak]` (npm run bench,
 * bench:smoke, bench:soak). Starts the upstream and facilitator stub, then each contender in turn,
 * all on loopback, pinned with taskset when possible; bounded by BENCH_TIME_LIMIT; every child is
 * killed on exit, error or signal. Settings: bench/env.ts and bench/README.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTENDERS } from './contenders/index.js';
import type { Contender, Harness } from './contenders/types.js';
import { readEnv, type BenchEnv, type Mode } from './env.js';
import { measureIdle, type IdleResult } from './idle.js';
import { measure, type Measurement } from './measure.js';
import {
  hasTaskset,
  installCleanup,
  killAll,
  pinPid,
  startProcess,
  waitReady,
  freePort,
  type Managed,
} from './proc.js';
import { renderIdle, renderSoak, renderTables, withRatios, writeJson } from './report.js';
import { scaleScenarios, scenario, type Scenario } from './scenarios.js';
import { loadOrSignPool, type PaymentPool } from './sign.js';
import { runSoak, type SoakResult } from './soak.js';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const RESULTS = path.join(BENCH, 'results');

function modeFromArgs(): Mode {
  if (process.argv.includes('--soak')) return 'soak';
  if (process.argv.includes('--smoke') || process.env.BENCH_SMOKE === '1') return 'smoke';
  return 'bench';
}

function log(msg: string): void {
  console.log(`[bench] ${msg}`);
}

/** Decide the CPUs; null when not pinning (with the reason logged). */
function pinning(env: BenchEnv): { sut: number | null; harness: number | null } {
  const cpus = os.availableParallelism();
  const why = !env.pin
    ? 'BENCH_PIN=0'
    : !hasTaskset()
      ? 'taskset not available'
      : cpus < 2
        ? `only ${cpus} CPU`
        : env.sutCpu === env.harnessCpu || env.sutCpu >= cpus || env.harnessCpu >= cpus
          ? `BENCH_SUT_CPU=${env.sutCpu} / BENCH_HARNESS_CPU=${env.harnessCpu} unusable with ${cpus} CPUs`
          : null;
  if (why) {
    log(`not pinning (${why}): SUT and harness share the CPUs, figures are noisier`);
    return { sut: null, harness: null };
  }
  log(
    `pinning: system under test → CPU ${env.sutCpu}, harness (autocannon, upstream, facilitator) → CPU ${env.harnessCpu}`,
  );
  return { sut: env.sutCpu, harness: env.harnessCpu };
}

function plan(env: BenchEnv): { c: Contender; scenarios: Scenario[] }[] {
  return env.contenders.map((name) => {
    const c = CONTENDERS[name] as Contender;
    let names = env.scenarios
      ? env.scenarios.filter((s) => c.supports.includes(s))
      : [...c.defaults];
    if (env.mode === 'smoke' && !env.scenarios) names = names.filter((s) => !s.endsWith('-slow'));
    return { c, scenarios: names.map(scenario) };
  });
}

async function startHarness(
  env: BenchEnv,
  cpu: number | null,
  tmp: string,
  sut: number | null,
): Promise<{ h: Harness; procs: Managed[] }> {
  const [up, fac] = [await freePort(), await freePort()];
  const upstream = startProcess(
    'upstream',
    process.execPath,
    [path.join(BENCH, 'servers', 'upstream.mjs'), String(up)],
    { cpu },
  );
  const facilitator = startProcess(
    'facilitator',
    process.execPath,
    [path.join(BENCH, 'servers', 'facilitator.mjs'), String(fac)],
    { cpu },
  );
  await waitReady(upstream, up, '/ready', 15_000);
  await waitReady(facilitator, fac, '/supported', 15_000, 200);
  const h: Harness = {
    env,
    root: ROOT,
    tmp,
    upstreamPort: up,
    upstreamPid: upstream.pid,
    facilitatorPort: fac,
    sutCpu: sut,
  };
  return { h, procs: [upstream, facilitator] };
}

function summary(m: Measurement): string {
  if (m.error) return `FAILED: ${m.error}`;
  const cpu = m.cpuUsPerReq === null ? '' : ` CPU ${Math.round(m.cpuUsPerReq)} µs/req`;
  const fac = m.facilitator
    ? ` | stub: ${m.facilitator.verify} verify, ${m.facilitator.distinctVerifyNonces} distinct nonces, ${m.facilitator.duplicateVerifyNonces} reused`
    : '';
  return `${Math.round(m.rps)} req/s p50 ${m.p50.toFixed(2)} ms p99 ${m.p99.toFixed(2)} ms${cpu} ${JSON.stringify(m.statuses)}${fac}${m.warnings.length ? ` ⚠ ${m.warnings.join('; ')}` : ''}`;
}

function failed(
  contender: string,
  scenarioName: string,
  connections: number,
  err: unknown,
  expect: number,
): Measurement {
  return {
    contender,
    scenario: scenarioName,
    connections,
    facilitatorLatencyMs: 0,
    expectStatus: expect,
    reps: [],
    rps: Number.NaN,
    p50: Number.NaN,
    p99: Number.NaN,
    cpuUsPerReq: null,
    loopLagP99Ms: null,
    loopLagMeanMs: null,
    statuses: {},
    non2xx: 0,
    unexpected: 0,
    facilitator: null,
    warnings: [],
    error: (err as Error).message,
  };
}

async function main(): Promise<number> {
  const mode = modeFromArgs();
  installCleanup();
  const env = readEnv(mode);
  const started = Date.now();
  const watchdog = setTimeout(() => {
    console.error(`[bench] BENCH_TIME_LIMIT of ${env.timeLimit} s reached: stopping everything`);
    killAll();
    process.exit(3);
  }, env.timeLimit * 1000);
  watchdog.unref();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'x402-bench-'));
  process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
  log(
    `mode ${mode}, node ${process.version}, ${os.availableParallelism()} CPUs, time limit ${env.timeLimit} s`,
  );
  const cpus = pinning(env);
  const work = mode === 'soak' ? [] : plan(env);
  const needPool = work.some((w) => w.scenarios.some((s) => s.pay !== 'none'));
  let pool: PaymentPool | null = null;
  if (needPool) {
    pool = await loadOrSignPool({
      count: env.payments,
      workers: env.signWorkers,
      validSeconds: env.validSeconds,
      minRemainingSeconds: Math.min(env.validSeconds - 60, env.timeLimit + 600),
      cacheDir: RESULTS,
    });
  }
  const { h } = await startHarness(env, cpus.harness, tmp, cpus.sut);
  if (cpus.harness !== null && !pinPid(process.pid, cpus.harness))
    log('could not pin the harness process itself');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = env.out || path.join(RESULTS, `${mode}-${stamp}.json`);
  const meta = {
    mode,
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
    pinned: cpus,
    env,
  };

  if (mode === 'soak') return soak(h, env, out, meta);

  const skipped: Record<string, string> = {};
  const measurements: Measurement[] = [];
  const available: Contender[] = [];
  for (const { c, scenarios } of work) {
    const reason = await c.prepare(h);
    if (reason) {
      skipped[c.name] = reason;
      log(`SKIP ${c.name}: ${reason}`);
      continue;
    }
    available.push(c);
    for (const s of scenarios) {
      for (const conns of env.connections) {
        process.stdout.write(`[bench] ${c.name} ${s.name} @${conns} … `);
        const m = await measure({ h, contender: c, scenario: s, connections: conns, pool }).catch(
          (e: unknown) => failed(c.name, s.name, conns, e, s.expect),
        );
        measurements.push(m);
        console.log(summary(m));
      }
    }
  }

  const gw = available.find((c) => c.name === 'gateway');
  if (mode === 'bench' && gw && env.scaleRoutes.length > 0) {
    const conns = env.connections[0] ?? 32;
    for (const n of env.scaleRoutes) {
      for (const s of scaleScenarios(n)) {
        process.stdout.write(`[bench] gateway ${s.name} @${conns} … `);
        const m = await measure({
          h,
          contender: gw,
          scenario: s,
          connections: conns,
          pool,
          startOptions: { routes: n },
        }).catch((e: unknown) => failed('gateway', s.name, conns, e, s.expect));
        measurements.push(m);
        console.log(summary(m));
      }
    }
  }

  const idle: IdleResult[] = [];
  if (mode === 'bench' && env.idleConnections > 0) {
    for (const c of available) {
      log(`${c.name}: RSS with ${env.idleConnections} idle keep-alive connections`);
      idle.push(
        await measureIdle(h, c, '/free', env.idleConnections).catch((e: unknown) => ({
          contender: c.name,
          path: '/free',
          connections: env.idleConnections,
          stillOpen: 0,
          rssBeforeBytes: null,
          rssIdleBytes: null,
          bytesPerConnection: null,
          error: (e as Error).message,
        })),
      );
    }
  }

  const rows = withRatios(measurements);
  console.log(
    `\n## Results (${mode}, ${env.repetitions} × ${env.duration} s, warm-up ${env.warmup} s, medians)\n`,
  );
  console.log(renderTables(rows));
  if (idle.length > 0)
    console.log(`\n## RSS with idle keep-alive connections\n\n${renderIdle(idle)}`);
  for (const [name, reason] of Object.entries(skipped)) console.log(`\nskipped ${name}: ${reason}`);
  writeJson(out, {
    meta: { ...meta, seconds: (Date.now() - started) / 1000 },
    skipped,
    measurements: rows,
    idle,
  });
  log(
    `results written to ${path.relative(process.cwd(), out)} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );

  const fatal = rows.filter(
    (r) => r.error && (env.required.includes(r.contender) || r.error.startsWith('harness:')),
  );
  for (const r of rows.filter((x) => x.error && !fatal.includes(x)))
    log(`warning: optional ${r.contender} ${r.scenario} failed`);
  if (fatal.length > 0) {
    log(
      `${fatal.length} required measurement(s) failed: ${fatal.map((r) => `${r.contender}/${r.scenario}@${r.connections}`).join(', ')}`,
    );
    return 1;
  }
  return 0;
}

async function soak(h: Harness, env: BenchEnv, out: string, meta: object): Promise<number> {
  const c = CONTENDERS[env.soakContender];
  if (!c) throw new Error(`BENCH_SOAK_CONTENDER: unknown contender ${env.soakContender}`);
  const reason = await c.prepare(h);
  if (reason) {
    log(`SKIP soak of ${c.name}: ${reason}`);
    writeJson(out, { meta, skipped: { [c.name]: reason } });
    return 0;
  }
  // Unpriced + unpaid-priced requests alternate (paid load would need ~10^6 signatures for 5 minutes).
  const paths = c.supports.includes('402') ? ['/free', '/paid'] : ['/free'];
  log(`soak: ${c.name} for ${env.soakSeconds} s, RSS every ${env.soakIntervalSeconds} s`);
  const r: SoakResult = await runSoak(h, c, paths);
  console.log(renderSoak(r));
  writeJson(out, { meta, soak: r });
  log(`results written to ${path.relative(process.cwd(), out)}`);
  return r.error ? 1 : 0;
}

main()
  .then((code) => {
    killAll();
    process.exit(code);
  })
  .catch((e: unknown) => {
    console.error(`[bench] harness error: ${(e as Error).stack ?? String(e)}`);
    killAll();
    process.exit(1);
  });
