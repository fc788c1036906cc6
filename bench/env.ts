/**
 * Every benchmark setting, read once from environment variables (see bench/README.md).
 * Nothing else in bench/ reads process.env.
 */
import os from 'node:os';
import { POOL_MAX_VALID_SECONDS } from './constants.js';

export type Mode = 'bench' | 'smoke' | 'soak';

export interface BenchEnv {
  readonly mode: Mode;
  /** Contenders to run, in order. */
  readonly contenders: readonly string[];
  /** Scenario names to run (null = each contender's defaults). */
  readonly scenarios: readonly string[] | null;
  readonly connections: readonly number[];
  /** Seconds per measured run. */
  readonly duration: number;
  /** Seconds of unmeasured load before the measured runs of each (contender, scenario, conns). */
  readonly warmup: number;
  readonly repetitions: number;
  /** Facilitator stub delay for ordinary scenarios, ms. */
  readonly facilitatorLatencyMs: number;
  /** Facilitator stub delay for the "@slow" paid scenarios, ms. */
  readonly slowFacilitatorLatencyMs: number;
  /** Signed payments available to one system-under-test process. */
  readonly payments: number;
  /** Worker threads that sign (before any load starts). */
  readonly signWorkers: number;
  /** validBefore = signing time + this many seconds. */
  readonly validSeconds: number;
  readonly sutCpu: number;
  readonly harnessCpu: number;
  readonly pin: boolean;
  /** Route counts for the scale scenarios (empty = skip). */
  readonly scaleRoutes: readonly number[];
  /** Open idle keep-alive connections for the RSS check (0 = skip). */
  readonly idleConnections: number;
  readonly soakSeconds: number;
  readonly soakIntervalSeconds: number;
  readonly soakContender: string;
  /** Hard bound for the whole run, seconds. */
  readonly timeLimit: number;
  /** Gateway entry script relative to the repo root ('' = dist/cli/main.js). */
  readonly gatewayCli: string;
  /** Entry script of a base checkout's gateway for the `gateway-base` contender ('' = skip it). */
  readonly baseGatewayCli: string;
  /** 'missing' (build when the entry is absent), 'always', 'never'. */
  readonly gatewayBuild: 'missing' | 'always' | 'never';
  /** Gateway `log.level` written to the generated config ('' = leave the key out). */
  readonly gatewayLogLevel: string;
  /** Extra node flags for every node system under test (gateway, http-proxy, references), e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
  readonly sutNodeArgs: readonly string[];
  /** Contenders whose failure (after they started) makes the run exit non-zero. */
  readonly required: readonly string[];
  /** Output JSON path ('' = bench/results/<mode>-<timestamp>.json). */
  readonly out: string;
  readonly nginxBin: string;
}

const ALL = [
  'direct',
  'http-proxy',
  'undici',
  'nginx',
  'ref-v1',
  'ref-v2',
  'prototype',
  'gateway-base',
  'gateway-noledger',
  'gateway-noledger-redis',
  'gateway-workers2',
  'gateway-workers2-pinned',
  'gateway',
];
const SMOKE = ['direct', 'http-proxy', 'gateway'];

function str(name: string, dflt: string): string {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? dflt : v.trim();
}

function num(name: string, dflt: number, min: number, max: number): number {
  const raw = str(name, String(dflt));
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new Error(`${name}=${raw}: expected a number in [${min}, ${max}]`);
  }
  return v;
}

function list(name: string, dflt: readonly string[]): string[] {
  const raw = process.env[name];
  if (raw === undefined) return [...dflt];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'none');
}

function numList(name: string, dflt: readonly number[], min: number, max: number): number[] {
  return list(name, dflt.map(String)).map((s) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name}: bad value ${s}`);
    return v;
  });
}

export function readEnv(mode: Mode): BenchEnv {
  const smoke = mode === 'smoke';
  const contenders = list('BENCH_CONTENDERS', smoke ? SMOKE : ALL);
  for (const c of contenders) {
    if (!ALL.includes(c))
      throw new Error(`BENCH_CONTENDERS: unknown contender ${c} (known: ${ALL.join(', ')})`);
  }
  const scen = process.env.BENCH_SCENARIOS;
  const cpus = os.availableParallelism();
  const soakSeconds = num('BENCH_SOAK_SECONDS', 300, 10, 3600);
  const gatewayBuild = str('BENCH_GATEWAY_BUILD', 'missing');
  if (gatewayBuild !== 'missing' && gatewayBuild !== 'always' && gatewayBuild !== 'never') {
    throw new Error('BENCH_GATEWAY_BUILD must be missing, always or never');
  }
  return {
    mode,
    contenders,
    scenarios: scen === undefined || scen.trim() === '' ? null : list('BENCH_SCENARIOS', []),
    connections: numList('BENCH_CONNECTIONS', smoke ? [8] : [32, 128], 1, 4096),
    duration: num('BENCH_DURATION', smoke ? 1 : 10, 1, 3600),
    warmup: num('BENCH_WARMUP', smoke ? 0.5 : 3, 0, 600),
    repetitions: num('BENCH_REPETITIONS', smoke ? 1 : 3, 1, 50),
    facilitatorLatencyMs: num('BENCH_FACILITATOR_LATENCY_MS', 0, 0, 10_000),
    slowFacilitatorLatencyMs: num('BENCH_SLOW_FACILITATOR_LATENCY_MS', 20, 0, 10_000),
    payments: num('BENCH_PAYMENTS', smoke ? 20_000 : 600_000, 100, 5_000_000),
    signWorkers: num('BENCH_SIGN_WORKERS', cpus, 1, 64),
    validSeconds: num('BENCH_VALID_SECONDS', 6 * 3600, 600, POOL_MAX_VALID_SECONDS),
    sutCpu: num('BENCH_SUT_CPU', 1, 0, 1023),
    harnessCpu: num('BENCH_HARNESS_CPU', 0, 0, 1023),
    pin: str('BENCH_PIN', '1') !== '0',
    scaleRoutes: numList('BENCH_SCALE_ROUTES', smoke ? [] : [10, 1_000, 10_000], 2, 1_000_000),
    idleConnections: num('BENCH_IDLE_CONNECTIONS', smoke ? 0 : 1_000, 0, 15_000),
    soakSeconds,
    soakIntervalSeconds: num('BENCH_SOAK_INTERVAL', 10, 1, 600),
    soakContender: str('BENCH_SOAK_CONTENDER', 'gateway'),
    timeLimit: num(
      'BENCH_TIME_LIMIT',
      smoke ? 180 : mode === 'soak' ? soakSeconds + 600 : 3 * 3600,
      10,
      24 * 3600,
    ),
    gatewayCli: str('BENCH_GATEWAY_CLI', ''),
    baseGatewayCli: str('BENCH_BASE_GATEWAY_CLI', ''),
    gatewayBuild,
    // Every feature on, logs included: one JSON line per request, as in production.
    gatewayLogLevel: process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'info',
    sutNodeArgs: (process.env.BENCH_SUT_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''),
    required: list('BENCH_REQUIRED', ['direct', 'http-proxy', 'gateway']),
    out: str('BENCH_OUT', ''),
    nginxBin: str('BENCH_NGINX', 'nginx'),
  };
}
