/**
 * Ratios against the baselines measured in the same run, Markdown tables on stdout, JSON on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IdleResult } from './idle.js';
import type { Measurement } from './measure.js';
import type { SoakResult } from './soak.js';

export const BASELINES = [
  'direct',
  'http-proxy',
  'undici',
  'nginx',
  'ref-v1',
  'ref-v2',
  'prototype',
  'gateway-base',
  'gateway-noledger',
] as const;

export interface Ratio {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpu: number | null;
}

export type Row = Measurement & {
  readonly ratios: Partial<Record<(typeof BASELINES)[number], Ratio>>;
};

/** Which scenario of a baseline a row compares with. */
function baselineScenario(base: string, row: Measurement): string | null {
  if (base === 'direct' || base === 'http-proxy' || base === 'undici' || base === 'nginx')
    return 'free';
  // The base checkout of the gateway: the same scenario, so the ratio is branch ÷ base.
  if (base === 'gateway-base') return row.contender === 'gateway' ? row.scenario : null;
  // The same build without its ledger: gateway ÷ gateway-noledger is what the ledger costs.
  if (base === 'gateway-noledger') return row.contender === 'gateway' ? row.scenario : null;
  if (base === 'prototype') {
    // Like with like; the scale rows compare with the prototype's single route.
    const m = /^scale-\d+-(free|402)$/.exec(row.scenario);
    return m ? m[1]! : row.scenario;
  }
  const v = base === 'ref-v1' ? 'v1' : 'v2';
  const sc = row.scenario;
  if (sc === '402' || sc.endsWith('-402')) return '402';
  if (sc === 'free' || sc.endsWith('-free')) return 'free';
  if (sc.startsWith('paid')) return sc.endsWith('-slow') ? `paid-${v}-slow` : `paid-${v}`;
  return null;
}

export function withRatios(all: readonly Measurement[]): Row[] {
  return all.map((row) => {
    const ratios: Row['ratios'] = {};
    for (const base of BASELINES) {
      const sc = baselineScenario(base, row);
      const b = all.find(
        (m) =>
          m.contender === base &&
          m.scenario === sc &&
          m.connections === row.connections &&
          !m.error,
      );
      if (!b || row.error) continue;
      ratios[base] = {
        rps: row.rps / b.rps,
        p50: row.p50 / b.p50,
        p99: row.p99 / b.p99,
        cpu: row.cpuUsPerReq !== null && b.cpuUsPerReq ? row.cpuUsPerReq / b.cpuUsPerReq : null,
      };
    }
    return { ...row, ratios };
  });
}

const f0 = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x)
    ? '—'
    : Math.round(x).toLocaleString('en-US');
const f2 = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(2);

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export function renderTables(rows: readonly Row[]): string {
  const out: string[] = [];
  out.push(
    table(
      [
        'contender',
        'scenario',
        'fac ms',
        'conns',
        'req/s',
        'p50 ms',
        'p99 ms',
        'CPU µs/req',
        'loop lag p99 / mean ms',
        'non-2xx',
        'unexpected',
        'note',
      ],
      rows.map((r) => [
        r.contender,
        r.scenario,
        String(r.facilitatorLatencyMs),
        String(r.connections),
        r.error ? 'FAILED' : f0(r.rps),
        f2(r.p50),
        f2(r.p99),
        f0(r.cpuUsPerReq),
        r.loopLagP99Ms === null ? '—' : `${f2(r.loopLagP99Ms)} / ${f2(r.loopLagMeanMs)}`,
        f0(r.non2xx),
        f0(r.unexpected),
        r.error ? r.error.split('\n')[0]!.slice(0, 80) : r.warnings.join('; ').slice(0, 80),
      ]),
    ),
  );
  const grid = (title: string, pick: (r: Ratio) => number | null): void => {
    out.push('', `${title} (row ÷ baseline, same connections, same run)`, '');
    out.push(
      table(
        ['contender', 'scenario', 'conns', ...BASELINES],
        rows.map((r) => [
          r.contender,
          r.scenario,
          String(r.connections),
          ...BASELINES.map((b) => (r.ratios[b] ? f2(pick(r.ratios[b])) : '—')),
        ]),
      ),
    );
  };
  grid('req/s ratio', (x) => x.rps);
  grid('CPU µs/req ratio', (x) => x.cpu);
  grid('p50 ratio', (x) => x.p50);
  grid('p99 ratio', (x) => x.p99);
  return out.join('\n');
}

export function renderIdle(rs: readonly IdleResult[]): string {
  const mib = (b: number | null): string => (b === null ? '—' : (b / 1048576).toFixed(1));
  return table(
    ['contender', 'idle conns', 'still open', 'RSS before MiB', 'RSS idle MiB', 'KiB/conn', 'note'],
    rs.map((r) => [
      r.contender,
      String(r.connections),
      String(r.stillOpen),
      mib(r.rssBeforeBytes),
      mib(r.rssIdleBytes),
      r.bytesPerConnection === null ? '—' : (r.bytesPerConnection / 1024).toFixed(1),
      r.error ?? '',
    ]),
  );
}

export function renderSoak(s: SoakResult): string {
  const lines = s.samples.map(
    ([t, b]) => `  ${t.toFixed(0).padStart(5)} s  ${(b / 1048576).toFixed(1)} MiB`,
  );
  const verdict = s.flat === null ? 'not enough samples' : s.flat ? 'FLAT' : 'GROWING';
  return [
    `soak: ${s.contender} ${s.paths.join(' + ')} at ${s.connections} conns for ${s.seconds} s` +
      (s.load ? `, ${f0(s.load.rps)} req/s, statuses ${JSON.stringify(s.load.statuses)}` : ''),
    ...lines,
    `RSS ${verdict}: slope ${f2(s.slopeMiBPerMin)} MiB/min, growth ${s.growthBytes === null ? '—' : (s.growthBytes / 1048576).toFixed(1)} MiB` +
      (s.error ? `; error: ${s.error}` : ''),
  ].join('\n');
}

export function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
