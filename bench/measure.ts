/**
 * One measurement: a fresh system-under-test process, warm-up, then N measured autocannon runs,
 * each bracketed by readings of the SUT's CPU time; facilitator stub counters checked for paid load.
 */
import { treeCpuSeconds } from './cpu.js';
import type { LoopLag } from './loop-lag.js';
import type { Contender, Harness, StartOptions } from './contenders/types.js';
import { runLoad, type LoadResult } from './load.js';
import { fetchChallenge, v1Feeder, v2Feeder, type PaymentFeeder } from './payments.js';
import { httpGet } from './proc.js';
import { latencyFor, type Scenario } from './scenarios.js';
import type { PaymentPool } from './sign.js';

export interface Rep extends LoadResult {
  /** CPU seconds the SUT process tree used during the run (null without /proc). */
  readonly cpuSeconds: number | null;
  /** CPU microseconds per response served. */
  readonly cpuUsPerReq: number | null;
  /** The SUT's event-loop lag during the run (gateways only: their /metrics), ms. */
  readonly loopLag: LoopLag | null;
}

export interface FacilitatorStats {
  readonly verify: number;
  readonly settle: number;
  readonly distinctVerifyNonces: number;
  readonly duplicateVerifyNonces: number;
  readonly distinctSettleNonces: number;
  readonly duplicateSettleNonces: number;
  readonly malformed: number;
}

export interface Measurement {
  readonly contender: string;
  readonly scenario: string;
  readonly connections: number;
  readonly facilitatorLatencyMs: number;
  readonly expectStatus: number;
  readonly reps: readonly Rep[];
  /** Medians over reps. */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuUsPerReq: number | null;
  /** Medians over reps of the event-loop lag's p99 and mean, ms (null where not measured). */
  readonly loopLagP99Ms: number | null;
  readonly loopLagMeanMs: number | null;
  /** Summed over the measured reps. */
  readonly statuses: Record<string, number>;
  readonly non2xx: number;
  /** Responses whose status differs from `expectStatus`. */
  readonly unexpected: number;
  /** Counters of the facilitator stub over warm-up + reps (paid scenarios). */
  readonly facilitator: FacilitatorStats | null;
  readonly warnings: readonly string[];
  /** Set when the measurement is invalid. */
  readonly error: string | null;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export async function resetFacilitator(h: Harness, latencyMs: number): Promise<void> {
  const r = await httpGet(h.facilitatorPort, `/__reset?latencyMs=${latencyMs}`, { method: 'POST' });
  if (r.status !== 200) throw new Error(`facilitator stub reset failed: ${r.status}`);
}

export async function facilitatorStats(h: Harness): Promise<FacilitatorStats> {
  return JSON.parse((await httpGet(h.facilitatorPort, '/__stats')).body) as FacilitatorStats;
}

export interface MeasureInput {
  readonly h: Harness;
  readonly contender: Contender;
  readonly scenario: Scenario;
  readonly connections: number;
  readonly pool: PaymentPool | null;
  readonly startOptions?: StartOptions;
}

export async function measure(input: MeasureInput): Promise<Measurement> {
  const { h, contender, scenario: s, connections, pool } = input;
  const env = h.env;
  const latencyMs = latencyFor(env, s);
  const warnings: string[] = [];
  const reps: Rep[] = [];
  let facilitator: FacilitatorStats | null = null;
  let error: string | null = null;
  await resetFacilitator(h, latencyMs);
  const sut = await contender.start(h, input.startOptions);
  try {
    let feeder: PaymentFeeder | undefined;
    if (s.pay !== 'none') {
      if (!pool) throw new Error('paid scenario without a signed payment pool');
      const ch = await fetchChallenge(sut.port, s.path);
      feeder = s.pay === 'v2' ? v2Feeder(pool, ch) : v1Feeder(pool, ch);
    }
    const spec = { port: sut.port, path: s.path, connections, feeder };
    if (env.warmup > 0) await runLoad({ ...spec, seconds: env.warmup });
    for (let i = 0; i < env.repetitions; i++) {
      await sut.loopLag?.(); // a scrape resets the lag histogram: what follows is this run's
      const c0 = treeCpuSeconds(sut.pid);
      const r = await runLoad({ ...spec, seconds: env.duration });
      const c1 = treeCpuSeconds(sut.pid);
      const loopLag = (await sut.loopLag?.()) ?? null;
      const cpu = c0 !== null && c1 !== null ? c1 - c0 : null;
      reps.push({
        ...r,
        cpuSeconds: cpu,
        cpuUsPerReq: cpu !== null && r.responses > 0 ? (cpu * 1e6) / r.responses : null,
        loopLag,
      });
      if (r.poolExhausted) {
        warnings.push(
          `payment pool (${pool?.count}) used up in rep ${i + 1}: run stopped early; raise BENCH_PAYMENTS`,
        );
        break;
      }
    }
    if (feeder) facilitator = await facilitatorStats(h);
  } catch (e) {
    error = (e as Error).message;
  } finally {
    const tail = sut.output();
    await sut.stop();
    if (error && tail) error += `\n--- ${contender.name} output ---\n${tail.slice(-1500)}`;
  }

  const statuses: Record<string, number> = {};
  for (const r of reps)
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  const expected = statuses[String(s.expect)] ?? 0;
  const non2xx = Object.entries(statuses).reduce((a, [k, v]) => (k.startsWith('2') ? a : a + v), 0);
  const unexpected = total - expected;
  // Responses after a pool ran dry answer requests the harness sent without a payment.
  const afterExhaustion = reps.reduce((a, r) => a + r.afterExhaustion, 0);
  if (!error && reps.length > 0) {
    // Tolerate the few requests cut at the end of a run, nothing more.
    if (total === 0) error = 'no responses at all';
    else if (
      unexpected - Math.min(unexpected, afterExhaustion) >
      Math.max(total * 0.01, connections * 2)
    ) {
      error = `${unexpected} of ${total} responses were not ${s.expect}: ${JSON.stringify(statuses)}`;
    }
  }
  if (facilitator) {
    const paid = Object.entries(statuses).reduce((a, [k, v]) => (k.startsWith('2') ? a + v : a), 0);
    if (facilitator.duplicateVerifyNonces > 0 || facilitator.duplicateSettleNonces > 0) {
      error = `harness: facilitator saw reused nonces (${facilitator.duplicateVerifyNonces} verify, ${facilitator.duplicateSettleNonces} settle)`;
    } else if (facilitator.distinctVerifyNonces < paid) {
      warnings.push(
        `only ${facilitator.distinctVerifyNonces} distinct nonces verified for ${paid} paid responses (verify cached?)`,
      );
    }
  }
  return {
    contender: contender.name,
    scenario: s.name,
    connections,
    facilitatorLatencyMs: latencyMs,
    expectStatus: s.expect,
    reps,
    rps: median(reps.map((r) => r.rps)),
    p50: median(reps.map((r) => r.p50)),
    p99: median(reps.map((r) => r.p99)),
    cpuUsPerReq: reps.some((r) => r.cpuUsPerReq !== null)
      ? median(reps.map((r) => r.cpuUsPerReq ?? Number.NaN))
      : null,
    loopLagP99Ms: reps.some((r) => r.loopLag !== null)
      ? median(reps.map((r) => r.loopLag?.p99Ms ?? Number.NaN))
      : null,
    loopLagMeanMs: reps.some((r) => r.loopLag !== null)
      ? median(reps.map((r) => r.loopLag?.meanMs ?? Number.NaN))
      : null,
    statuses,
    non2xx,
    unexpected,
    facilitator,
    warnings,
    error,
  };
}
