/**
 * The operator's view, end to end (issue 14 §3): a real Prometheus (Debian's binary) scrapes one
 * gateway's admin listener as job `x402-gateway` while paid, free, unpaid, declined, replayed and
 * failed traffic runs through it on the devnet. Then every query of the committed Grafana dashboard,
 * with its variables and Grafana's macros substituted as Grafana would, must return data through
 * Prometheus's HTTP API; the revenue Prometheus holds must equal the transfers to payTo on-chain, to
 * the atomic unit; and the alert rules, loaded into that Prometheus, must evaluate without error.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { parseAbi } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  balanceOf,
  newPayer,
  publicClient,
  transfersTo,
  useDevnet,
  type Payer,
} from '../../helpers/devnet.js';
import { PRICE, startStack, type Stack } from '../../helpers/gateway-stack.js';
import { payWith, signFor } from '../../helpers/pay.js';
import {
  startPrometheus,
  type PromQueryData,
  type PromSeries,
  type PrometheusServer,
} from '../../helpers/prometheus-server.js';
import { loadV1Client, type V1FetchModule } from '../../helpers/v1-client.js';

const RULES_FILE = fileURLToPath(
  new URL('../../../deploy/prometheus/x402-gateway.rules.yml', import.meta.url),
);
const DASHBOARD_FILE = fileURLToPath(
  new URL('../../../deploy/grafana/x402-gateway.json', import.meta.url),
);
/** The job name the alert rules and docs/operations.md expect. */
const JOB = 'x402-gateway';
/** Prometheus's scrape and evaluation interval, s; also the data source's "Scrape interval". */
const SCRAPE_S = 1;
/** Grafana asks for about one point per pixel: a panel some 1000 px wide. */
const MAX_DATA_POINTS = 1000;

/** The stack's routes, plus a paid route whose upstream answers 500 and a buffered one it overflows. */
const ROUTES_YAML = `
routes:
  "GET /v1/quote": "$0.001"
  "GET /v1/items/:id": "$0.002"
  "GET /v1/health": 0
  "GET /v1/fail": "$0.001"
  "GET /v1/big":
    price: "$0.001"
    settle: { mode: buffer, maxBufferBytes: 1024 }
`;

const net = useDevnet();
let stack: Stack;
let prom: PrometheusServer;
let v1: V1FetchModule;
/** The dashboard's time range: from before the gateway started to after the last scrape. */
let fromMs: number;
let toMs: number;
/** When the last request of the traffic had its answer. */
let trafficEndMs: number;

beforeAll(async () => {
  fromMs = Date.now();
  v1 = await loadV1Client();
  stack = await startStack(net.devnet, 'local', { routesYaml: ROUTES_YAML });
  prom = await startPrometheus({
    // The admin listener as an operator's Prometheus names it: instance = host:port.
    jobs: [{ jobName: JOB, targets: [new URL(stack.gateway.adminUrl).host] }],
    ruleFiles: [RULES_FILE],
    intervalSeconds: SCRAPE_S,
  });
  // As in production, Prometheus is already scraping when the traffic comes: a counter's first
  // increase is then a rise between two samples that rate() and increase() see. (Prometheus's
  // discovery hands over new targets within about 5 s.)
  await until('the first scrape of the gateway', 20_000, async () => {
    const target = (await prom.targets()).find((t) => t.labels.job === JOB);
    return target?.health === 'up' ? true : undefined;
  });
});

afterAll(async () => {
  await prom?.stop();
  await stack?.close();
});

function v2Fetch(payer: Payer): typeof fetch {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: payer.account });
  return wrapFetchWithPayment(fetch, client);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value, at most `ms`; then fails with `what`. */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** Waits (bounded) until `n` scrapes of the gateway have started after `afterMs`, all successful. */
async function scrapesAfter(afterMs: number, n: number): Promise<void> {
  const scrapes = new Set<string>();
  await until(`${n} scrape(s) of the gateway`, 15_000, async () => {
    const target = (await prom.targets()).find((t) => t.labels.job === JOB);
    if (target === undefined) return undefined;
    expect(target.lastError).toBe('');
    if (Date.parse(target.lastScrape) > afterMs && target.health === 'up')
      scrapes.add(target.lastScrape);
    return scrapes.size >= n ? true : undefined;
  });
}

/** Atomic units every served payment of the traffic below moved to payTo. */
const CHARGED = 3n * PRICE.quote + 5n * PRICE.item;

describe('Prometheus scrapes the gateway; the dashboard and the alert rules work on it', () => {
  it('traffic: v2 and v1 clients pay, free routes, 402s, a declined payment, a replay, upstream failures', async () => {
    const { url } = stack;
    const devnet = net.devnet;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/v1/health`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${url}/v1/quote?sym=BTC`);
      expect(res.status).toBe(402);
      await res.arrayBuffer();
    }

    // The official v2 client (@x402/fetch): two paid calls.
    const v2Payer = await newPayer(devnet, 100_000n);
    const pay2 = v2Fetch(v2Payer);
    for (const path of ['/v1/quote?sym=ETH', '/v1/items/7']) {
      const res = await pay2(`${url}${path}`);
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }

    // The official v1 client (x402-fetch@1.2.0): two paid calls.
    const v1Payer = await newPayer(devnet, 100_000n);
    const pay1 = v1.wrapFetchWithPayment(
      fetch,
      await v1.createSigner('base-sepolia', v1Payer.privateKey),
      10_000n,
    );
    for (const path of ['/v1/items/x402-fetch', '/v1/quote?sym=SOL']) {
      const res = await pay1(`${url}${path}`);
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }

    // Upstream failures on paid routes: an upstream 500 is passed through, a body too large for the
    // buffered route is a 502; neither is charged.
    const before = await balanceOf(devnet, v2Payer.address);
    const failed = await pay2(`${url}/v1/fail`);
    expect(failed.status).toBe(500);
    await failed.arrayBuffer();
    const overflow = await pay2(`${url}/v1/big`);
    expect(overflow.status).toBe(502);
    await overflow.arrayBuffer();
    expect(await balanceOf(devnet, v2Payer.address)).toBe(before);

    // A declined payment: a correctly signed authorization from a payer without funds.
    const broke = await newPayer(devnet, 0n);
    const declined = await payWith(
      url,
      '/v1/quote',
      await signFor(url, '/v1/quote', { account: broke.account }),
    );
    expect(declined.status).toBe(402);
    expect(declined.body).toMatch(/insufficient/);

    // A replay: one payment served, then presented again.
    const once = await signFor(url, '/v1/items/replayed', { account: v2Payer.account });
    expect((await payWith(url, '/v1/items/replayed', once)).status).toBe(200);
    const replay = await payWith(url, '/v1/items/replayed', once);
    expect(replay.status).toBe(402);
    expect(replay.body).toMatch(/payment_already_used/);

    // A second round of paid and free calls after a scrape: series born in the first round (the
    // upstream and facilitator latency histograms, the paid outcomes) now rise between two samples,
    // so rate() and histogram_quantile() have values to show, not only NaN.
    await scrapesAfter(Date.now(), 1);
    for (const path of ['/v1/quote?sym=ETH', '/v1/items/8']) {
      const res = await pay2(`${url}${path}`);
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }
    const res = await pay1(`${url}/v1/items/x402-fetch-2`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const free = await fetch(`${url}/v1/health`);
    expect(free.status).toBe(200);
    await free.arrayBuffer();
    trafficEndMs = Date.now();

    // Two scrapes that started after the traffic: counters final, and rate() has points after it.
    await scrapesAfter(trafficEndMs, 2);
    toMs = Date.now();
  });

  it('every query of every dashboard panel returns data', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
    const grafana = await grafanaContext(dashboard, prom, fromMs, toMs);
    const targets = panelTargets(dashboard.panels);
    expect(targets.length).toBeGreaterThan(20);
    const report: string[] = [];
    const empty: string[] = [];
    for (const { panel, target } of targets) {
      const expr = grafana.interpolate(target.expr);
      // A panel runs a range query over the dashboard's time range unless the target is instant.
      const data = target.instant
        ? await prom.query(expr, grafana.to)
        : await prom.queryRange(expr, grafana.start, grafana.to, grafana.intervalS);
      const series = data.result as readonly PromSeries[];
      const points = series.reduce((n, s) => n + (s.values?.length ?? 1), 0);
      const numbers = series.flatMap((s) => (s.values ?? [s.value!]).map(([, v]) => Number(v)));
      const nan = numbers.length > 0 && numbers.every((v) => Number.isNaN(v));
      report.push(
        `${panel} [${target.refId}${target.instant ? ', instant' : ''}]: ${series.length} series, ${points} points${nan ? ', all NaN' : ''}`,
      );
      // NaN everywhere is what Grafana shows as no value: the traffic must give each query one.
      if (series.length === 0 || nan) empty.push(`${panel} [${target.refId}]: ${expr}`);
    }
    console.log(
      `dashboard queries (range ${grafana.range}, $__interval ${grafana.intervalS}s, $__rate_interval ${grafana.rateIntervalS}s):\n` +
        report.join('\n'),
    );
    expect(empty).toEqual([]);
  });

  it('revenue in Prometheus equals the transfers to payTo on-chain, in atomic units and token units', async () => {
    const transfers = await transfersTo(net.devnet, stack.payTo);
    const onChain = transfers.reduce((sum, t) => sum + t.value, 0n);
    // Only the served payments moved money: not the 500, the 502, the declined or the replay.
    expect(onChain).toBe(CHARGED);
    expect(await balanceOf(net.devnet, stack.payTo)).toBe(onChain);

    const at = toMs / 1000;
    const byPayTo = vector(
      await prom.query(`sum by (pay_to) (x402_gateway_revenue_atomic_total{job="${JOB}"})`, at),
    );
    expect(byPayTo.map((s) => s.metric.pay_to)).toEqual([stack.payTo]);
    // Prometheus keeps a float64; below 2^53 it prints the integer exactly.
    const atomic = byPayTo[0]!.value![1];
    expect(atomic).toMatch(/^\d+$/);
    expect(BigInt(atomic)).toBe(onChain);

    const decimals = await publicClient(net.devnet).readContract({
      address: net.devnet.usdc,
      abi: parseAbi(['function decimals() view returns (uint8)']),
      functionName: 'decimals',
    });
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
    const grafana = await grafanaContext(dashboard, prom, fromMs, toMs);
    const total = panelTargets(dashboard.panels).find(
      (t) => t.panel === 'Revenue total (token units)',
    );
    expect(total, 'the dashboard has a "Revenue total (token units)" panel').toBeDefined();
    const tokens = vector(await prom.query(grafana.interpolate(total!.target.expr), at));
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.metric).toMatchObject({ symbol: 'USDC', network: net.devnet.network.caip2 });
    expect(Number(tokens[0]!.value![1])).toBe(Number(onChain) / 10 ** decimals);
  });

  it('the alert rules load into Prometheus and every rule evaluates without error', async () => {
    const file = parseYaml(readFileSync(RULES_FILE, 'utf8')) as {
      groups: { name: string; rules: { alert?: string; record?: string }[] }[];
    };
    // Every group evaluated at least once after the traffic, so the rules ran over its series.
    const groups = await until(
      'an evaluation of every rule group after the traffic',
      15_000,
      async () => {
        const loaded = await prom.rules();
        const fresh = file.groups.every((g) => {
          const got = loaded.find((l) => l.name === g.name && l.file === RULES_FILE);
          return got !== undefined && Date.parse(got.lastEvaluation) > trafficEndMs;
        });
        return fresh ? loaded : undefined;
      },
    );
    expect(groups.map((g) => g.name).sort()).toEqual(file.groups.map((g) => g.name).sort());
    for (const group of file.groups) {
      const loaded = groups.find((g) => g.name === group.name)!;
      expect(loaded.rules.map((r) => r.name)).toEqual(group.rules.map((r) => r.alert ?? r.record));
      for (const rule of loaded.rules) {
        expect({ rule: rule.name, health: rule.health, lastError: rule.lastError ?? '' }).toEqual({
          rule: rule.name,
          health: 'ok',
          lastError: '',
        });
      }
    }
  });
});

function vector(data: PromQueryData): readonly PromSeries[] {
  expect(data.resultType).toBe('vector');
  return data.result as readonly PromSeries[];
}

// --- The dashboard, read as Grafana reads it ---------------------------------------------------

interface Target {
  readonly expr: string;
  readonly refId: string;
  readonly instant?: boolean;
}

interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets?: readonly Target[];
  /** A collapsed row holds its panels. */
  readonly panels?: readonly Panel[];
}

interface Variable {
  readonly type: string;
  readonly name: string;
  readonly multi?: boolean;
  readonly includeAll?: boolean;
  readonly allValue?: string | null;
  readonly regex?: string;
  readonly definition?: string;
  readonly query?: string | { readonly query: string };
}

interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

/** Every target with a PromQL expression, rows' nested panels included. */
function panelTargets(panels: readonly Panel[]): { panel: string; target: Target }[] {
  return panels.flatMap((p) => [
    ...(p.targets ?? []).filter((t) => t.expr).map((target) => ({ panel: p.title, target })),
    ...panelTargets(p.panels ?? []),
  ]);
}

/** Grafana's interval rounding (rangeutil.roundInterval), for the sub-hour intervals a test has. */
function roundInterval(ms: number): number {
  const steps: [number, number][] = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1_500, 1_000],
    [3_500, 2_000],
    [7_500, 5_000],
    [12_500, 10_000],
    [17_500, 15_000],
    [25_000, 20_000],
    [45_000, 30_000],
    [90_000, 60_000],
    [210_000, 120_000],
    [450_000, 300_000],
    [750_000, 600_000],
    [1_050_000, 900_000],
    [1_500_000, 1_200_000],
    [2_700_000, 1_800_000],
  ];
  return steps.find(([below]) => ms < below)?.[1] ?? 3_600_000;
}

/** Grafana's duration text (rangeutil.secondsToHms): the largest whole unit only. */
function secondsToHms(seconds: number): string {
  const units: [number, string][] = [
    [31_536_000, 'y'],
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'm'],
    [1, 's'],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size) return `${Math.floor(seconds / size)}${unit}`;
  }
  return `${Math.floor(seconds * 1_000)}ms`;
}

/** Grafana's escaping of one value of a multi-value variable inside a Prometheus regex. */
function regexEscape(value: string): string {
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');
}

interface GrafanaContext {
  /** Range query bounds (unix s): start aligned to the step, as Grafana sends them. */
  readonly start: number;
  readonly to: number;
  readonly intervalS: number;
  readonly rateIntervalS: number;
  readonly range: string;
  interpolate(expr: string): string;
}

/**
 * Template variables with "All" selected and Grafana's macros for the time range [from, to], with
 * the data source's scrape interval set to Prometheus's (SCRAPE_S):
 * - `$__interval`: range / max data points, rounded, at least the scrape interval;
 * - `$__rate_interval`: max($__interval + scrape interval, 4 × scrape interval);
 * - `$__range`: the range in whole seconds (`$__range_s`, `$__range_ms` likewise);
 * - a variable's "All": its allValue, else (multi) the regex alternation of its values.
 */
async function grafanaContext(
  dashboard: Dashboard,
  server: PrometheusServer,
  fromMsValue: number,
  toMsValue: number,
): Promise<GrafanaContext> {
  const rangeMs = toMsValue - fromMsValue;
  const intervalMs = Math.max(roundInterval(rangeMs / MAX_DATA_POINTS), SCRAPE_S * 1_000);
  const rateIntervalMs = Math.max(intervalMs + SCRAPE_S * 1_000, 4 * SCRAPE_S * 1_000);
  const rangeS = Math.round(rangeMs / 1_000);
  const intervalS = intervalMs / 1_000;
  const macros: Record<string, string> = {
    __interval: secondsToHms(intervalMs / 1_000),
    __interval_ms: String(intervalMs),
    __rate_interval: secondsToHms(rateIntervalMs / 1_000),
    __rate_interval_ms: String(rateIntervalMs),
    __range: `${rangeS}s`,
    __range_s: String(rangeS),
    __range_ms: String(rangeS * 1_000),
  };
  const to = toMsValue / 1_000;
  const start = Math.floor(fromMsValue / 1_000 / intervalS) * intervalS;
  const values: Record<string, string> = {};
  const substitute = (expr: string): string =>
    expr.replace(
      /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
      (whole, a?: string, b?: string, c?: string) => {
        const name = (a ?? b ?? c)!;
        return macros[name] ?? values[name] ?? whole;
      },
    );
  // In order: a variable's query may use the variables above it.
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    if (v.includeAll && typeof v.allValue === 'string' && v.allValue !== '') {
      values[v.name] = v.allValue;
      continue;
    }
    const options = await labelValues(server, substitute(v.definition ?? ''), start, to);
    const filter = v.regex ? new RegExp(v.regex) : undefined;
    const kept = options.filter((o) => filter === undefined || filter.test(o));
    if (kept.length === 0) throw new Error(`variable ${v.name} has no values: ${v.definition}`);
    values[v.name] = v.multi || v.includeAll ? `(${kept.map(regexEscape).join('|')})` : kept[0]!;
  }
  return {
    start,
    to,
    intervalS,
    rateIntervalS: rateIntervalMs / 1_000,
    range: macros.__range!,
    interpolate: substitute,
  };
}

/** `label_values(selector, label)` over the range, as Grafana's variable query asks it. */
async function labelValues(
  server: PrometheusServer,
  definition: string,
  start: number,
  end: number,
): Promise<string[]> {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(definition.trim());
  if (m === null) throw new Error(`unsupported variable query: ${definition}`);
  const data = await server.queryRange(`group by (${m[2]}) (${m[1]})`, start, end, SCRAPE_S);
  const names = (data.result as readonly PromSeries[]).map((s) => s.metric[m[2]!]!);
  return [...new Set(names)].sort();
}
