/**
 * Counters and histograms for the request path, exported through prom-client.
 *
 * Why not prom-client's own `labels(...).inc()`: every call hashes the label values into a string
 * key (~0.19 µs a call measured here, and a paid request makes a dozen). Here the label values
 * lead through nested maps to a series object, whose update is a field increment. prom-client still
 * owns the registry and the text format:
 * - a counter copies its series into a prom-client `Counter` when scraped (its `collect` hook);
 * - a histogram renders its series in prom-client's metric format (the shape `Histogram.get()`
 *   returns), registered with `registerMetric`.
 */
import { Counter, type Registry } from 'prom-client';

type LabelValues = Record<string, string>;

/** One row of a metric, as prom-client's registry formats it. */
interface Row {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  readonly metricName: string;
}

/** One labelled counter series. */
export class CounterSeries {
  value = 0;
  constructor(readonly labels: Readonly<LabelValues>) {}
  inc(by = 1): void {
    this.value += by;
  }
}

/** One labelled histogram series: per-bucket (not cumulative) counts, sum and count. */
export class HistogramSeries {
  readonly #bounds: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Readonly<LabelValues>,
    bounds: readonly number[],
  ) {
    this.#bounds = bounds;
    this.counts = bounds.map(() => 0);
  }
  observe(value: number): void {
    this.sum += value;
    this.count++;
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        return;
      }
    }
    // Above the last bound: only +Inf (the count) holds it.
  }
}

/**
 * Label values → series, one Map level per label. Values are the caller's own strings (route ids,
 * outcome constants), so each level is a lookup by a string whose hash V8 has already cached.
 */
class SeriesTree<S> {
  readonly #root = new Map<string, unknown>();
  readonly all: S[] = [];
  constructor(
    private readonly labelNames: readonly string[],
    private readonly create: (labels: LabelValues) => S,
  ) {}

  get(values: readonly string[]): S {
    const names = this.labelNames;
    if (values.length !== names.length) {
      throw new Error(
        `expected ${names.length} label values (${names.join(', ')}), got ${values.length}`,
      );
    }
    let level = this.#root;
    for (let i = 0; i < values.length - 1; i++) {
      let next = level.get(values[i]!) as Map<string, unknown> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(values[i]!, next);
      }
      level = next;
    }
    const leafKey = values.length === 0 ? '' : values[values.length - 1]!;
    let series = level.get(leafKey) as S | undefined;
    if (series === undefined) {
      const labels: LabelValues = {};
      names.forEach((name, i) => (labels[name] = values[i]!));
      series = this.create(labels);
      level.set(leafKey, series);
      this.all.push(series);
    }
    return series;
  }
}

interface MetricConfig<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registry: Registry;
}

/** A counter whose `labels(...)` returns a series to `inc`. */
export class SeriesCounter<L extends string> {
  readonly #tree: SeriesTree<CounterSeries>;

  constructor(config: MetricConfig<L>) {
    const tree = new SeriesTree(config.labelNames, (labels) => new CounterSeries(labels));
    this.#tree = tree;
    new Counter({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [config.registry],
      collect() {
        this.reset();
        for (const s of tree.all) this.inc(s.labels as Partial<Record<L, string>>, s.value);
      },
    });
  }

  /** The series for these label values, in `labelNames` order. */
  labels(...values: string[]): CounterSeries {
    return this.#tree.get(values);
  }
}

/** A histogram whose `labels(...)` returns a series to `observe`. */
export class SeriesHistogram<L extends string> {
  readonly #tree: SeriesTree<HistogramSeries>;

  constructor(config: MetricConfig<L> & { readonly buckets: readonly number[] }) {
    const bounds = [...config.buckets].sort((a, b) => a - b);
    const tree = new SeriesTree(config.labelNames, (labels) => new HistogramSeries(labels, bounds));
    this.#tree = tree;
    const { name, help } = config;
    config.registry.registerMetric({
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: () => Promise.resolve(histogramValues(name, help, bounds, tree.all)),
      reset: () => {
        for (const s of tree.all) {
          s.counts.fill(0);
          s.sum = 0;
          s.count = 0;
        }
      },
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series for these label values, in `labelNames` order. */
  labels(...values: string[]): HistogramSeries {
    return this.#tree.get(values);
  }
}

/** The exposition of a histogram: cumulative `_bucket` rows, `+Inf`, `_sum`, `_count`, per series. */
function histogramValues(
  name: string,
  help: string,
  bounds: readonly number[],
  series: readonly HistogramSeries[],
): { name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: Row[] } {
  const values: Row[] = [];
  for (const s of series) {
    let cumulative = 0;
    bounds.forEach((le, i) => {
      cumulative += s.counts[i]!;
      values.push({ labels: { ...s.labels, le }, value: cumulative, metricName: `${name}_bucket` });
    });
    values.push({
      labels: { ...s.labels, le: '+Inf' },
      value: s.count,
      metricName: `${name}_bucket`,
    });
    values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${name}_sum` });
    values.push({ labels: { ...s.labels }, value: s.count, metricName: `${name}_count` });
  }
  return { name, help, type: 'histogram', aggregator: 'sum', values };
}
