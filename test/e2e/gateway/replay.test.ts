/**
 * One payment moves money once, on a real chain: a settled payment replayed is refused with no
 * second transfer; 20 concurrent copies of one payment reach the upstream once and transfer once;
 * 20 concurrent distinct payments transfer 20 times; an upstream 500 charges nothing and the same
 * signed payment works afterwards. In-process and over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { authorizationState, balanceOf, newPayer, transfersTo } from '../../helpers/devnet.js';
import {
  MODES,
  PRICE,
  revenueOnMetrics,
  upstreamCalls,
  useGatewaySuite,
  type Stack,
} from '../../helpers/gateway-stack.js';
import { payWith, signFor } from '../../helpers/pay.js';
import { authorizationOf } from '../../helpers/payments.js';

const suite = useGatewaySuite();
const stacks = suite.stacks;

function reasonOf(body: string): string {
  return (JSON.parse(body) as { reason?: string }).reason ?? '';
}

describe.each(MODES)('payments settle exactly once (facilitator %s)', (mode) => {
  const stack = (): Stack => stacks.get(mode)!;

  it('a settled payment replayed is refused, with no second transfer', async () => {
    const payer = await newPayer(suite.devnet, 5_000n);
    const path = '/v1/items/replay';
    const payment = await signFor(stack().url, path, { account: payer.account });
    const first = await payWith(stack().url, path, payment);
    expect(first.status).toBe(200);
    expect(await balanceOf(suite.devnet, payer.address)).toBe(5_000n - PRICE.item);
    const transfers = (await transfersTo(suite.devnet, stack().payTo)).length;

    const replay = await payWith(stack().url, path, payment);
    expect(replay.status).toBe(402);
    expect(reasonOf(replay.body)).toBe('payment_already_used');
    expect(upstreamCalls(stack(), path)).toBe(1);
    expect(await balanceOf(suite.devnet, payer.address)).toBe(5_000n - PRICE.item);
    expect(await transfersTo(suite.devnet, stack().payTo)).toHaveLength(transfers);
  });

  it('20 concurrent copies of one payment: one upstream call, one transfer', async () => {
    const payer = await newPayer(suite.devnet, 5_000n);
    const path = '/v1/items/copies';
    const payment = await signFor(stack().url, path, { account: payer.account });
    const payeeBefore = await balanceOf(suite.devnet, stack().payTo);
    const transfers = (await transfersTo(suite.devnet, stack().payTo)).length;

    const answers = await Promise.all(
      Array.from({ length: 20 }, () => payWith(stack().url, path, payment)),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    for (const refused of answers.filter((a) => a.status !== 200)) {
      expect(refused.status).toBe(402);
      expect(reasonOf(refused.body)).toBe('payment_already_used');
    }
    expect(upstreamCalls(stack(), path)).toBe(1);
    expect(await balanceOf(suite.devnet, stack().payTo)).toBe(payeeBefore + PRICE.item);
    expect(await balanceOf(suite.devnet, payer.address)).toBe(5_000n - PRICE.item);
    const after = await transfersTo(suite.devnet, stack().payTo);
    expect(after).toHaveLength(transfers + 1);
    const { nonce } = authorizationOf(payment.payload);
    expect(await authorizationState(suite.devnet, payer.address, nonce)).toBe(true);
  });

  it('20 concurrent distinct payments: 20 transfers', async () => {
    const payer = await newPayer(suite.devnet, 20n * PRICE.quote);
    const payeeBefore = await balanceOf(suite.devnet, stack().payTo);
    const transfers = (await transfersTo(suite.devnet, stack().payTo)).length;
    const payments = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        signFor(stack().url, `/v1/quote?n=${i}`, { account: payer.account }),
      ),
    );
    const answers = await Promise.all(
      payments.map((p, i) => payWith(stack().url, `/v1/quote?n=${i}`, p)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(await balanceOf(suite.devnet, payer.address)).toBe(0n);
    expect(await balanceOf(suite.devnet, stack().payTo)).toBe(payeeBefore + 20n * PRICE.quote);
    const after = await transfersTo(suite.devnet, stack().payTo);
    expect(after).toHaveLength(transfers + 20);
    expect(new Set(after.slice(transfers).map((t) => t.transactionHash)).size).toBe(20);
    for (const p of payments) {
      expect(
        await authorizationState(suite.devnet, payer.address, authorizationOf(p.payload).nonce),
      ).toBe(true);
    }
  });

  it('upstream 500: the client gets the 500, nothing moves, and the same payment then works', async () => {
    const payer = await newPayer(suite.devnet, 5_000n);
    const path = '/v1/items/flaky';
    const payment = await signFor(stack().url, path, { account: payer.account });
    const transfers = (await transfersTo(suite.devnet, stack().payTo)).length;
    const { nonce } = authorizationOf(payment.payload);

    stack().upstream.failNext(1);
    const failed = await payWith(stack().url, path, payment);
    expect(failed.status).toBe(500);
    expect(failed.body).toContain('upstream down for a moment');
    expect(failed.headers['payment-response']).toBeUndefined();
    expect(await balanceOf(suite.devnet, payer.address)).toBe(5_000n);
    expect(await authorizationState(suite.devnet, payer.address, nonce)).toBe(false);
    expect(await transfersTo(suite.devnet, stack().payTo)).toHaveLength(transfers);

    const retried = await payWith(stack().url, path, payment);
    expect(retried.status).toBe(200);
    expect(upstreamCalls(stack(), path)).toBe(2);
    expect(await balanceOf(suite.devnet, payer.address)).toBe(5_000n - PRICE.item);
    expect(await authorizationState(suite.devnet, payer.address, nonce)).toBe(true);
    expect(await transfersTo(suite.devnet, stack().payTo)).toHaveLength(transfers + 1);
  });

  it('the revenue counter on /metrics equals the transfers to payTo on-chain', async () => {
    const onChain = (await transfersTo(suite.devnet, stack().payTo)).reduce(
      (sum, t) => sum + t.value,
      0n,
    );
    expect(onChain).toBe(3n * PRICE.item + 20n * PRICE.quote);
    expect(await revenueOnMetrics(stack())).toBe(onChain);
  });
});
