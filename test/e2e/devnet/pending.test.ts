import { createTestClient, http, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalFacilitator } from '../../../src/facilitator/index.js';
import {
  account,
  authorizationState,
  balanceOf,
  freshAddress,
  paymentV2,
  publicClient,
  requestV1,
  requirementsV1,
  signAuthorization,
  startDevnetWithFacilitator,
  type Devnet,
  type DevnetWithFacilitator,
} from './setup.js';

// Mining off after setup: a broadcast settlement stays in the mempool until we mine.
let devnet: Devnet;
let facilitator: LocalFacilitator;
let stack: DevnetWithFacilitator | undefined;

beforeAll(async () => {
  stack = await startDevnetWithFacilitator({ chainId: 8453, mining: false }, 400);
  ({ devnet, facilitator } = stack);
});
afterAll(async () => {
  await stack?.stop();
});

async function mineBlock(): Promise<void> {
  await createTestClient({ mode: 'anvil', chain: devnet.chain, transport: http(devnet.rpcUrl) }).mine({ blocks: 1 });
}

describe('settlement whose receipt does not arrive in time', () => {
  it('v2: answers settlement_pending with the hash; a retry after mining reconciles to success', async () => {
    const payer = account(devnet, 1);
    const payTo = freshAddress();
    const { request, signed } = await paymentV2(devnet, payer, payTo, 5_000n);
    const first = await facilitator.settle(request);
    expect(first.kind).toBe('ok');
    if (first.kind !== 'ok') return;
    expect(first.value).toMatchObject({ success: false, errorReason: 'settlement_pending', network: 'eip155:8453' });
    const hash = first.value.transaction as Hex;
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    // Broadcast but not mined: nothing moved yet.
    expect(await balanceOf(devnet, payTo)).toBe(0n);
    expect(await publicClient(devnet).getTransaction({ hash })).toMatchObject({ hash });

    await mineBlock();
    const retry = await facilitator.settle(request);
    expect(retry).toMatchObject({ kind: 'ok', value: { success: true, transaction: hash } });
    expect(await balanceOf(devnet, payTo)).toBe(5_000n);
    expect(await authorizationState(devnet, payer.address, signed.authorization.nonce)).toBe(true);
  });

  it('v1: also answers settlement_pending with the hash (not a raw error) and reconciles on retry', async () => {
    const payer = account(devnet, 2);
    const payTo = freshAddress();
    const signed = await signAuthorization(devnet, payer, { to: payTo, value: 3_000n });
    const request = requestV1(requirementsV1(devnet, payTo, 3_000n), signed);
    const first = await facilitator.settle(request);
    if (first.kind !== 'ok') throw new Error('unavailable');
    expect(first.value).toMatchObject({ success: false, errorReason: 'settlement_pending', network: 'base' });
    const hash = first.value.transaction;
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    // Still pending on a retry before mining: same hash, no second broadcast.
    const stillPending = await facilitator.settle(request);
    expect(stillPending).toMatchObject({ kind: 'ok', value: { success: false, errorReason: 'settlement_pending', transaction: hash } });

    await mineBlock();
    const retry = await facilitator.settle(request);
    expect(retry).toMatchObject({ kind: 'ok', value: { success: true, transaction: hash } });
    expect(await balanceOf(devnet, payTo)).toBe(3_000n);
  });
});
