/**
 * What the fleet and outage e2e tests tally: each answer as `200`, `<status> <reason>` or `error`
 * (a lost connection), counted by label; and the revenue one `/metrics` text shows for a payTo.
 */
import type { RawResponse } from './raw-http.js';

/** `200`, `402 payment_already_used`, `503 ?` (no JSON reason), or `error` for a lost connection. */
export function answerLabel(r: RawResponse | Error): string {
  if (r instanceof Error) return 'error';
  if (r.status === 200) return '200';
  try {
    const reason = (JSON.parse(r.body) as { reason?: unknown }).reason;
    return `${r.status} ${typeof reason === 'string' ? reason : '?'}`;
  } catch {
    return `${r.status} ?`;
  }
}

export function tally(xs: readonly string[]): Record<string, number> {
  const m: Record<string, number> = {};
  for (const x of xs) m[x] = (m[x] ?? 0) + 1;
  return m;
}

/** Sum of `x402_gateway_revenue_atomic_total` for `payTo` in a `/metrics` text. */
export function revenueIn(metricsText: string, payTo: string): bigint {
  let sum = 0n;
  for (const line of metricsText.split('\n')) {
    if (line.startsWith('x402_gateway_revenue_atomic_total{') && line.includes(`pay_to="${payTo}"`))
      sum += BigInt(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
