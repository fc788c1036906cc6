/** RSS of one contender under steady load, sampled every interval, judged flat or growing. */
import type { Contender, Harness } from './contenders/types.js';
import { treeRssBytes } from './cpu.js';
import { runLoad, type LoadResult } from './load.js';

export interface SoakResult {
  readonly contender: string;
  readonly paths: readonly string[];
  readonly connections: number;
  readonly seconds: number;
  /** [seconds since start, RSS bytes]. */
  readonly samples: readonly (readonly [number, number])[];
  /** Least-squares slope over the samples after the first minute (or after the first third), MiB/min. */
  readonly slopeMiBPerMin: number | null;
  /** Growth from the first to the last part of that window, bytes. */
  readonly growthBytes: number | null;
  readonly flat: boolean | null;
  readonly load: LoadResult | null;
  readonly error: string | null;
}

function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export async function runSoak(
  h: Harness,
  c: Contender,
  paths: readonly string[],
): Promise<SoakResult> {
  const env = h.env;
  const conns = env.connections[0] ?? 32;
  const sut = await c.start(h);
  const samples: [number, number][] = [];
  const t0 = Date.now();
  const sample = (): void => {
    const rss = treeRssBytes(sut.pid);
    if (rss !== null) samples.push([(Date.now() - t0) / 1000, rss]);
  };
  let load: LoadResult | null = null;
  let error: string | null = null;
  sample();
  const timer = setInterval(sample, env.soakIntervalSeconds * 1000);
  try {
    load = await runLoad({
      port: sut.port,
      path: paths[0] ?? '/',
      paths,
      connections: conns,
      seconds: env.soakSeconds,
    });
    sample();
  } catch (e) {
    error = (e as Error).message;
  } finally {
    clearInterval(timer);
    await sut.stop();
  }
  // Judge on the part after warm-up: skip the first minute, or the first third of a short soak.
  const skip = Math.min(60, env.soakSeconds / 3);
  const win = samples.filter(([t]) => t >= skip);
  let slopeMiB: number | null = null;
  let growth: number | null = null;
  let flat: boolean | null = null;
  if (win.length >= 3) {
    slopeMiB = (slope(win) * 60) / (1024 * 1024);
    const k = Math.max(1, Math.floor(win.length / 3));
    const avg = (xs: [number, number][]) => xs.reduce((a, p) => a + p[1], 0) / xs.length;
    const first = avg(win.slice(0, k));
    growth = avg(win.slice(-k)) - first;
    // Flat: the last third is within max(5 %, 8 MiB) of the first third.
    flat = growth <= Math.max(first * 0.05, 8 * 1024 * 1024);
  }
  return {
    contender: c.name,
    paths,
    connections: conns,
    seconds: env.soakSeconds,
    samples,
    slopeMiBPerMin: slopeMiB,
    growthBytes: growth,
    flat,
    load,
    error,
  };
}
