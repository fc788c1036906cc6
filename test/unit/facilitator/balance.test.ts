/**
 * The settler balance watch: a read at start and every interval into the gauge, a failed read kept
 * out of it, no overlapping reads, nothing after stop; the gauge exported only once asked for; and
 * the built-in facilitator's real `settlerBalance()` against the devnet.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchSettlerBalance } from '../../../src/facilitator/balance.js';
import { createMetrics } from '../../../src/metrics/registry.js';
import { account, publicClient, SETTLER_INDEX, useDevnet } from '../../helpers/devnet.js';

const GAUGE = 'x402_gateway_settler_balance_wei';

async function gaugeValue(metrics: ReturnType<typeof createMetrics>): Promise<number | undefined> {
  const m = await metrics.registry.getSingleMetric(GAUGE)?.get();
  return m?.values[0]?.value;
}

describe('watchSettlerBalance', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads at start and then every interval, into the gauge', async () => {
    vi.useFakeTimers();
    const metrics = createMetrics({ defaultMetrics: false });
    expect(metrics.registry.getSingleMetric(GAUGE)).toBeUndefined();
    let wei = 5n * 10n ** 17n;
    const read = vi.fn(() => Promise.resolve(wei));
    const watch = watchSettlerBalance({
      read,
      set: (v) => metrics.settlerBalance().set(v),
      intervalMs: 60_000,
    });
    await watch.start();
    expect(read).toHaveBeenCalledTimes(1);
    expect(await gaugeValue(metrics)).toBe(5e17);
    wei = 10n ** 15n;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(read).toHaveBeenCalledTimes(2);
    expect(await gaugeValue(metrics)).toBe(1e15);
    watch.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('keeps the last value when a read fails, and reports the failure', async () => {
    vi.useFakeTimers();
    const set = vi.fn();
    const onError = vi.fn();
    let fail = false;
    const watch = watchSettlerBalance({
      read: () => (fail ? Promise.reject(new Error('rpc down')) : Promise.resolve(7n)),
      set,
      onError,
      intervalMs: 1_000,
    });
    await watch.start();
    fail = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(set.mock.calls).toEqual([[7n]]);
    expect(onError).toHaveBeenCalledOnce();
    watch.stop();
  });

  it('never runs two reads at once against a slow RPC', async () => {
    vi.useFakeTimers();
    let release: (v: bigint) => void = () => undefined;
    const read = vi.fn(() => new Promise<bigint>((r) => (release = r)));
    const watch = watchSettlerBalance({ read, set: () => undefined, intervalMs: 1_000 });
    const first = watch.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(read).toHaveBeenCalledTimes(1);
    release(1n);
    await first;
    watch.stop();
  });
});

describe('the built-in facilitator settlerBalance', () => {
  const net = useDevnet({ facilitator: {} });

  it("reads the settler's balance from its RPC", async () => {
    const settler = account(net.devnet, SETTLER_INDEX).address;
    expect(net.facilitator.settlerAddress.toLowerCase()).toBe(settler.toLowerCase());
    const wei = await net.facilitator.settlerBalance();
    expect(wei).toBeGreaterThan(0n);
    // The native (gas) balance, not the USDC one.
    expect(wei).toBe(await publicClient(net.devnet).getBalance({ address: settler }));
  });
});
