/**
 * One autocannon run against a loopback port, with latencies recorded at full resolution for every
 * response (autocannon's own histogram is whole milliseconds) and, for paid load, a new payment
 * header on every request.
 */
import autocannon from 'autocannon';
import type { PaymentFeeder } from './payments.js';

export interface LoadSpec {
  readonly port: number;
  readonly path: string;
  /** Paths cycled per connection instead of `path` (e.g. free + 402 for the soak). */
  readonly paths?: readonly string[];
  readonly connections: number;
  readonly seconds: number;
  readonly feeder?: PaymentFeeder;
}

export interface LoadResult {
  /** Responses per second over the run. */
  readonly rps: number;
  /** Milliseconds, over all responses. */
  readonly p50: number;
  readonly p99: number;
  readonly responses: number;
  /** Count per HTTP status, e.g. {"200": 1234}. */
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
  readonly seconds: number;
  /** Paid load only: the pool ran out and the run was stopped early. */
  readonly poolExhausted: boolean;
  /**
   * Responses that arrived after the pool ran out. Requests sent from then on carry no payment (a
   * spent one is never sent again), so their 402s are the harness's, not the system under test's.
   */
  readonly afterExhaustion: number;
  readonly paymentsUsed: number;
}

const MAX_SAMPLES = 20_000_000;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? Number.NaN;
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let samples = new Float64Array(1 << 16);
  let n = 0;
  let exhausted = false;
  let afterExhaustion = 0;
  let inst: { stop(): void } | null = null;
  const feeder = spec.feeder;
  const paths = spec.paths ?? [spec.path];
  const requests = paths.map((p) => ({
    method: 'GET',
    path: p,
    ...(feeder
      ? {
          setupRequest: (req: { headers?: Record<string, string> }) => {
            const v = feeder.next();
            if (v === null) {
              // Never reuse a payment: stop the run and report it. autocannon keeps the request
              // object between calls, so the last payment's header must be taken off it too.
              if (!exhausted) {
                exhausted = true;
                setImmediate(() => inst?.stop());
              }
              if (req.headers !== undefined) {
                const unpaid = { ...req.headers };
                delete unpaid[feeder.header];
                req.headers = unpaid;
              }
              return req;
            }
            req.headers = { ...req.headers, [feeder.header]: v };
            return req;
          },
        }
      : {}),
  }));
  return new Promise((resolve, reject) => {
    const hard = setTimeout(() => inst?.stop(), (spec.seconds + 30) * 1000);
    const created = autocannon(
      {
        url: `http://127.0.0.1:${spec.port}`,
        connections: spec.connections,
        duration: spec.seconds,
        timeout: 10,
        requests,
      },
      (err, result) => {
        clearTimeout(hard);
        if (err) return reject(err);
        const sorted = samples.subarray(0, n).sort();
        const statuses: Record<string, number> = {};
        let responses = 0;
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
          statuses[code] = count;
          responses += count;
        }
        const seconds = result.duration > 0 ? result.duration : spec.seconds;
        resolve({
          rps: responses / seconds,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          responses,
          statuses,
          errors: result.errors,
          timeouts: result.timeouts,
          seconds,
          poolExhausted: exhausted,
          afterExhaustion,
          paymentsUsed: feeder?.used() ?? 0,
        });
      },
    );
    inst = created;
    created.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      if (exhausted) afterExhaustion++;
      if (n === samples.length && n < MAX_SAMPLES) {
        const bigger = new Float64Array(Math.min(MAX_SAMPLES, samples.length * 2));
        bigger.set(samples);
        samples = bigger;
      }
      if (n < samples.length) samples[n++] = ms;
    });
  });
}
