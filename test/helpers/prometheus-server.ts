/**
 * A real Prometheus (Debian's `prometheus` binary, which `.ci/run` installs with promtool) on
 * 127.0.0.1 and a free port, with a generated config in its own temporary folder: the e2e tests
 * scrape the gateway's admin listener with it, run the dashboard's queries and evaluate the alert
 * rules through its HTTP API. Every wait is bounded; `stop` ends the process by pid (SIGTERM, then
 * SIGKILL) and removes the folder. A missing binary is an error, never a skip: the ops checks must
 * not pass by not running.
 */
import { accessSync, constants, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { freePort, spawnServer } from './server-process.js';
import { tempDir } from './temp-dir.js';

export interface ScrapeJob {
  /** `job_name`: the job label an operator's Prometheus gives the gateway (`x402-gateway`). */
  readonly jobName: string;
  /** `host:port` targets; each becomes an `instance` label as Prometheus names it. */
  readonly targets: readonly string[];
  readonly metricsPath?: string;
}

export interface PrometheusOptions {
  readonly jobs: readonly ScrapeJob[];
  /** Absolute paths of rule files (`rule_files`). */
  readonly ruleFiles?: readonly string[];
  /** Scrape and rule evaluation interval, seconds. Default 1: tests cannot wait for 15 s ones. */
  readonly intervalSeconds?: number;
  /** Bound on start-up until `/-/ready`, ms. Default 20 000. */
  readonly readyTimeoutMs?: number;
}

/** One series of an instant (`vector`) or range (`matrix`) result. */
export interface PromSeries {
  readonly metric: Readonly<Record<string, string>>;
  /** Instant queries: [unix seconds, value as Prometheus formats it]. */
  readonly value?: readonly [number, string];
  /** Range queries. */
  readonly values?: readonly (readonly [number, string])[];
}

export interface PromQueryData {
  readonly resultType: 'vector' | 'matrix' | 'scalar' | 'string';
  readonly result: readonly PromSeries[] | readonly [number, string];
}

export interface PromRule {
  readonly name: string;
  readonly query: string;
  readonly type: 'alerting' | 'recording';
  readonly health: 'ok' | 'err' | 'unknown';
  readonly lastError?: string;
  readonly lastEvaluation: string;
}

export interface PromRuleGroup {
  readonly name: string;
  readonly file: string;
  readonly rules: readonly PromRule[];
  readonly lastEvaluation: string;
}

export interface PromTarget {
  readonly labels: Readonly<Record<string, string>>;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
  /** RFC 3339 start of the last scrape. */
  readonly lastScrape: string;
}

export interface PrometheusServer {
  /** Base URL, `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly pid: number;
  /** `/api/v1/query` at `time` (unix seconds; default: Prometheus's now). Throws unless success. */
  query(expr: string, time?: number): Promise<PromQueryData>;
  /** `/api/v1/query_range`, unix seconds and a step in seconds. Throws unless success. */
  queryRange(expr: string, start: number, end: number, stepSeconds: number): Promise<PromQueryData>;
  rules(): Promise<PromRuleGroup[]>;
  targets(): Promise<PromTarget[]>;
  /** What the process wrote lately (its log, on stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export const PROMETHEUS_MISSING =
  "Debian's prometheus binary is not on PATH: install Debian's prometheus: apt-get install prometheus (.ci/run does)";

/** `prometheus` on PATH (Debian: /usr/bin/prometheus), or a clear error. */
export function prometheusBinary(): string {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin']) {
    const candidate = join(dir, 'prometheus');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(PROMETHEUS_MISSING);
}

/** Start Prometheus; retried on another port if the one picked was taken meanwhile. */
export async function startPrometheus(o: PrometheusOptions): Promise<PrometheusServer> {
  const bin = prometheusBinary();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin, await freePort(), o);
    } catch (error) {
      lastError = error;
      if (!String(error).includes('address already in use')) throw error;
    }
  }
  throw lastError;
}

async function startOnce(
  bin: string,
  port: number,
  o: PrometheusOptions,
): Promise<PrometheusServer> {
  const interval = `${o.intervalSeconds ?? 1}s`;
  const dir = tempDir('x402-prom-');
  const config = {
    global: {
      scrape_interval: interval,
      // Must not exceed the interval (Prometheus refuses the config otherwise).
      scrape_timeout: interval,
      evaluation_interval: interval,
    },
    rule_files: o.ruleFiles ?? [],
    scrape_configs: o.jobs.map((j) => ({
      job_name: j.jobName,
      metrics_path: j.metricsPath ?? '/metrics',
      static_configs: [{ targets: j.targets }],
    })),
  };
  const configFile = join(dir.path, 'prometheus.yml');
  // JSON is YAML: no serializer quirks to worry about.
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const url = `http://127.0.0.1:${port}`;
  const server = spawnServer(
    'prometheus',
    bin,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir.path, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { logBytes: 8192 },
  );
  // A test worker that dies must not leave Prometheus behind.
  const killOnExit = (): void => void server.child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await server.stop('SIGTERM', 5_000);
    dir.remove();
  };

  const readyTimeoutMs = o.readyTimeoutMs ?? 20_000;
  try {
    await server.waitReady(
      async () =>
        (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) })).status === 200,
      { timeoutMs: readyTimeoutMs, pollMs: 100, notReady: `not ready within ${readyTimeoutMs} ms` },
    );
  } catch (err) {
    await stop();
    throw err;
  }

  async function api<T>(path: string, form?: Record<string, string>): Promise<T> {
    const res = await fetch(`${url}${path}`, {
      method: form ? 'POST' : 'GET',
      ...(form ? { body: new URLSearchParams(form) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') {
      throw new Error(`prometheus ${path}: ${body.status}: ${body.error ?? res.status}`);
    }
    return body.data;
  }

  return {
    url,
    pid: server.child.pid!,
    query: (expr, time) =>
      api<PromQueryData>(
        '/api/v1/query',
        time === undefined ? { query: expr } : { query: expr, time: String(time) },
      ),
    queryRange: (expr, start, end, step) =>
      api<PromQueryData>('/api/v1/query_range', {
        query: expr,
        start: String(start),
        end: String(end),
        step: String(step),
      }),
    rules: async () => (await api<{ groups: PromRuleGroup[] }>('/api/v1/rules')).groups,
    targets: async () =>
      (await api<{ activeTargets: PromTarget[] }>('/api/v1/targets')).activeTargets,
    log: () => server.log(),
    stop,
  };
}
