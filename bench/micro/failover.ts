/**
 * The failover pool's cost on the paid path (verify/failover.ts): one verify + one settle through
 * the pool (two circuit-breaker executions, the /supported lookups) against the same two calls
 * made on the client directly. The client answers at once (no I/O), so the difference is the
 * pool's own CPU per paid request. `npx tsx bench/micro/failover.ts`
 */
import pino from 'pino';
import { createMetrics } from '../../src/metrics/index.js';
import { FacilitatorPool } from '../../src/verify/failover.js';
import type { FacilitatorClient, FacilitatorRequest } from '../../src/verify/types.js';

const verifyOk = { kind: 'ok', value: { isValid: true, payer: '0x1' }, status: 200 } as const;
const settleOk = {
  kind: 'ok',
  value: { success: true, transaction: `0x${'1'.repeat(64)}`, network: 'eip155:8453' },
  status: 200,
} as const;
const client: FacilitatorClient = {
  verify: () => Promise.resolve(verifyOk),
  settle: () => Promise.resolve(settleOk),
  supported: () => Promise.resolve({ kind: 'ok', value: { kinds: [] }, status: 200 }),
  close: () => Promise.resolve(),
};
const member = (label: string, lists: boolean) => ({
  label,
  client,
  verifyTimeoutMs: 5000,
  settleTimeoutMs: 15000,
  breakerFailures: 5,
  breakerHalfOpenAfterMs: 10000,
  lists: () => lists,
  verdicts: { refused: () => undefined, accepted: () => undefined },
});
const metrics = createMetrics({ defaultMetrics: false }).facilitators;
const log = pino({ level: 'silent' });
const request = {} as FacilitatorRequest;
const one = new FacilitatorPool([member('0', true)], metrics, log);
// Two entries, the first not listing the network: the loop and a skip on every request.
const two = new FacilitatorPool([member('a', false), member('b', true)], metrics, log);

async function direct(): Promise<void> {
  await client.verify(request, { timeoutMs: 5000 });
  await client.settle(request, { timeoutMs: 15000 });
}
async function pooled(pool: FacilitatorPool): Promise<void> {
  const v = await pool.verify(request, 2, 'eip155:8453');
  await pool.settle(request, 2, 'eip155:8453', { via: v.by, pinned: false }, 15000);
}

async function time(name: string, run: () => Promise<void>): Promise<number> {
  for (let i = 0; i < 20_000; i++) await run();
  const N = 200_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await run();
  const us = Number(process.hrtime.bigint() - t) / N / 1000;
  console.log(`${name}: ${us.toFixed(3)} µs per paid request (verify + settle)`);
  return us;
}

const base = await time('direct client', direct);
const single = await time('pool of one', () => pooled(one));
const pair = await time('pool of two (first skipped)', () => pooled(two));
console.log(
  `pool overhead: ${(single - base).toFixed(3)} µs (one), ${(pair - base).toFixed(3)} µs (two)`,
);
await time('pool verify only', async () => {
  await one.verify(request, 2, 'eip155:8453');
});
await time('pool settle only', async () => {
  await one.settle(request, 2, 'eip155:8453', { via: one.members[0], pinned: false }, 15000);
});
