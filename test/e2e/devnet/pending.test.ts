import type { Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  account,
  authorizationState,
  balanceOf,
  freshAddress,
  paymentV2,
  publicClient,
  requestV1,
  requirementsV1,
  signDevnetAuthorization,
  useDevnet,
  mineBlocks,
} from '../../helpers/devnet.js';

// Mining off after setup: a broadcast settlement stays in the mempool until we mine.
const net = useDevnet({ chainId: 8453, mining: false, facilitator: { receiptTimeoutMs: 400 } });

describe('settlement whose receipt does not arrive in time', () => {
  it('v2: answers settlement_pending with the hash; a retry after mining reconciles to success', async () => {
    const payer = account(net.devnet, 1);
    const payTo = freshAddress();
    const { request, signed } = await paymentV2(net.devnet, payer, payTo, 5_000n);
    const first = await net.facilitator.settle(request);
    expect(first.kind).toBe('ok');
    if (first.kind !== 'ok') return;
    expect(first.value).toMatchObject({
      success: false,
      errorReason: 'settlement_pending',
      network: 'eip155:8453',
    });
    const hash = first.value.transaction as Hex;
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    // Broadcast but not mined: nothing moved yet.
    expect(await balanceOf(net.devnet, payTo)).toBe(0n);
    expect(await publicClient(net.devnet).getTransaction({ hash })).toMatchObject({ hash });

    await mineBlocks(net.devnet);
    const retry = await net.facilitator.settle(request);
    expect(retry).toMatchObject({ kind: 'ok', value: { success: true, transaction: hash } });
    expect(await balanceOf(net.devnet, payTo)).toBe(5_000n);
    expect(await authorizationState(net.devnet, payer.address, signed.authorization.nonce)).toBe(
      true,
    );
  });

  it('v1: also answers settlement_pending with the hash (not a raw error) and reconciles on retry', async () => {
    const payer = account(net.devnet, 2);
    const payTo = freshAddress();
    const signed = await signDevnetAuthorization(net.devnet, payer, { to: payTo, value: 3_000n });
    const request = requestV1(requirementsV1(net.devnet, payTo, 3_000n), signed);
    const first = await net.facilitator.settle(request);
    if (first.kind !== 'ok') throw new Error('unavailable');
    expect(first.value).toMatchObject({
      success: false,
      errorReason: 'settlement_pending',
      network: 'base',
    });
    const hash = first.value.transaction;
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    // Still pending on a retry before mining: same hash, no second broadcast.
    const stillPending = await net.facilitator.settle(request);
    expect(stillPending).toMatchObject({
      kind: 'ok',
      value: { success: false, errorReason: 'settlement_pending', transaction: hash },
    });

    await mineBlocks(net.devnet);
    const retry = await net.facilitator.settle(request);
    expect(retry).toMatchObject({ kind: 'ok', value: { success: true, transaction: hash } });
    expect(await balanceOf(net.devnet, payTo)).toBe(3_000n);
  });
});
