import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from '../../../src/metrics/series.js';

/** Exposition lines as `name{sorted labels} value`, so label order does not matter. */
async function samples(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((line) => {
      const m = /^([^{ ]+)(?:\{(.*)\})? (.+)$/.exec(line);
      if (m === null) throw new Error(`unparsable line: ${line}`);
      const labels = (m[2] ?? '')
        .split(/,(?=[a-z_]+=")/)
        .filter(Boolean)
        .sort()
        .join(',');
      return `${m[1]}{${labels}} ${m[3]}`;
    })
    .sort();
}

describe('SeriesCounter', () => {
  it('exports what a prom-client Counter exports for the same increments', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const a = new SeriesCounter({
      name: 'x_total',
      help: 'h',
      labelNames: ['route', 'outcome'],
      registry: ours,
    });
    const b = new Counter({
      name: 'x_total',
      help: 'h',
      labelNames: ['route', 'outcome'],
      registers: [theirs],
    });
    const incs: [string, string, number][] = [
      ['GET /a', 'paid', 1],
      ['GET /a', 'paid', 1],
      ['GET /a', 'rejected', 1],
      ['GET "b"\\', 'paid', 2500000],
    ];
    for (const [route, outcome, by] of incs) {
      a.labels(route, outcome).inc(by);
      b.labels(route, outcome).inc(by);
    }
    expect(await samples(ours)).toEqual(await samples(theirs));
    expect(await samples(ours)).toContain('x_total{outcome="paid",route="GET /a"} 2');
  });

  it('keeps counting across scrapes and hands back the same series for the same labels', async () => {
    const registry = new Registry();
    const c = new SeriesCounter({ name: 'y_total', help: 'h', labelNames: ['result'], registry });
    const hit = c.labels('hit');
    expect(c.labels('hit')).toBe(hit);
    hit.inc();
    await registry.metrics();
    hit.inc();
    expect(await samples(registry)).toEqual(['y_total{result="hit"} 2']);
  });

  it('refuses a wrong number of label values', () => {
    const c = new SeriesCounter({
      name: 'z_total',
      help: 'h',
      labelNames: ['a', 'b'],
      registry: new Registry(),
    });
    expect(() => c.labels('only-one')).toThrow(/expected 2 label values/);
  });
});

describe('SeriesHistogram', () => {
  it('exports what a prom-client Histogram exports for the same observations', async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const ours = new Registry();
    const theirs = new Registry();
    const a = new SeriesHistogram({
      name: 'd_seconds',
      help: 'h',
      labelNames: ['op'],
      buckets,
      registry: ours,
    });
    const b = new Histogram({
      name: 'd_seconds',
      help: 'h',
      labelNames: ['op'],
      buckets,
      registers: [theirs],
    });
    // Edges included: a value equal to a bound counts in that bucket; above the last only in +Inf.
    const observations: [string, number][] = [
      ['verify', 0.0005],
      ['verify', 0.001],
      ['verify', 0.05],
      ['settle', 1],
      ['settle', 7],
      ['settle', 0.02],
    ];
    for (const [op, v] of observations) {
      a.labels(op).observe(v);
      b.labels(op).observe(v);
    }
    expect(await samples(ours)).toEqual(await samples(theirs));
    expect(await samples(ours)).toContain('d_seconds_bucket{le="+Inf",op="settle"} 3');
    expect(await samples(ours)).toContain('d_seconds_bucket{le="0.001",op="verify"} 2');
  });

  it('is reset by the registry', async () => {
    const registry = new Registry();
    const h = new SeriesHistogram({
      name: 'r_seconds',
      help: 'h',
      labelNames: ['op'],
      buckets: [1],
      registry,
    });
    h.labels('x').observe(0.5);
    registry.resetMetrics();
    expect(await samples(registry)).toContain('r_seconds_count{op="x"} 0');
  });
});
