/**
 * The gateway's event-loop lag over one measured run, read from its own /metrics: prom-client's
 * default metrics sample the loop's delay (perf_hooks.monitorEventLoopDelay) and reset the
 * histogram at every scrape, so a scrape right before a run and one right after it give the lag of
 * that run alone. A worker-mode gateway's primary merges its workers' figures (prom-client's
 * aggregators). Other contenders have no such endpoint: their lag is not measured.
 */
import { httpGet } from './proc.js';

export interface LoopLag {
  /** Mean, 99th percentile and maximum delay of the event loop over the run, ms. */
  readonly meanMs: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const LINE = /nodejs_eventloop_lag_(mean|p99|max)_seconds(?:\{[^}]*\})?\s+([0-9.eE+-]+)/g;

/**
 * prom-client samples with a 10 ms timer (`eventLoopMonitoringPrecision`, left at its default by
 * the gateway) and Node records the whole interval between two ticks: an idle loop reads ~10 ms.
 * The lag is what exceeds the timer's period.
 */
const SAMPLING_PERIOD_MS = 10;

/** Parse the three lag gauges out of a Prometheus text exposition; null when one is missing. */
export function parseLoopLag(text: string): LoopLag | null {
  const seen: Record<string, number> = {};
  for (const m of text.matchAll(LINE)) {
    seen[m[1]!] = Math.max(0, Number(m[2]) * 1000 - SAMPLING_PERIOD_MS);
  }
  const { mean, p99, max } = seen;
  if (mean === undefined || p99 === undefined || max === undefined) return null;
  return { meanMs: mean, p99Ms: p99, maxMs: max };
}

/** Scrape `/metrics` on the admin port: the lag since the previous scrape (null if unreadable). */
export async function readLoopLag(adminPort: number): Promise<LoopLag | null> {
  try {
    const r = await httpGet(adminPort, '/metrics', { timeoutMs: 5_000 });
    return r.status === 200 ? parseLoopLag(r.body) : null;
  } catch {
    return null;
  }
}
