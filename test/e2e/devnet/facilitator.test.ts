import { describe, expect, it } from 'vitest';
import type { FacilitatorResult } from '../../../src/verify/types.js';
import type { SettleResponse, VerifyResponse } from '../../../src/x402/types.js';
import {
  SETTLER_INDEX,
  account,
  authorizationState,
  balanceOf,
  freshAddress,
  paymentV2,
  publicClient,
  requestV1,
  requestV2,
  requirementsV1,
  requirementsV2,
  signDevnetAuthorization,
  startDevnetFixture,
  useDevnet,
} from '../../helpers/devnet.js';

const net = useDevnet({ chainId: 84532, facilitator: {} });

function value<T>(r: FacilitatorResult<T>): T {
  if (r.kind !== 'ok') throw new Error(`facilitator unavailable: ${r.failure} ${r.detail}`);
  return r.value;
}
const verifyOf = async (p: Promise<FacilitatorResult<VerifyResponse>>) => value(await p);
const settleOf = async (p: Promise<FacilitatorResult<SettleResponse>>) => value(await p);

describe('local facilitator on the devnet', () => {
  it('serves the RPC chain for v1 and v2 and names its settler', async () => {
    const s = value(await net.facilitator.supported());
    expect(s.kinds).toEqual(
      expect.arrayContaining([
        { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
        { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
      ]),
    );
    expect(s.kinds).toHaveLength(2);
    expect((s as unknown as { signers: Record<string, string[]> }).signers['eip155:*']).toEqual([
      account(net.devnet, SETTLER_INDEX).address,
    ]);
  });

  it('verifies and settles a real v2 payment: exact balances, authorization used, tx on chain', async () => {
    const payer = account(net.devnet, 1);
    const payTo = freshAddress();
    const { request, signed } = await paymentV2(net.devnet, payer, payTo, 12_345n);
    const before = await balanceOf(net.devnet, payer.address);

    const v = await verifyOf(net.facilitator.verify(request));
    expect(v).toEqual({ isValid: true, payer: payer.address });

    const s = await settleOf(net.facilitator.settle(request));
    expect(s.success).toBe(true);
    expect(s.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(s.network).toBe('eip155:84532');
    expect(s.payer).toBe(payer.address);
    const receipt = await publicClient(net.devnet).getTransactionReceipt({
      hash: s.transaction as `0x${string}`,
    });
    expect(receipt.status).toBe('success');
    expect(receipt.from.toLowerCase()).toBe(
      account(net.devnet, SETTLER_INDEX).address.toLowerCase(),
    );

    expect(await balanceOf(net.devnet, payTo)).toBe(12_345n);
    expect(await balanceOf(net.devnet, payer.address)).toBe(before - 12_345n);
    expect(await authorizationState(net.devnet, payer.address, signed.authorization.nonce)).toBe(
      true,
    );

    // Replay: refused with the official nonce reason, nothing moves, nothing broadcast.
    const replay = await settleOf(net.facilitator.settle(request));
    expect(replay).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_nonce_already_used',
      transaction: '',
    });
    const again = await verifyOf(net.facilitator.verify(request));
    expect(again).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_nonce_already_used',
    });
    expect(await balanceOf(net.devnet, payTo)).toBe(12_345n);
    expect(await balanceOf(net.devnet, payer.address)).toBe(before - 12_345n);
  });

  it('verifies and settles a real v1 payment, and refuses its replay', async () => {
    const payer = account(net.devnet, 2);
    const payTo = freshAddress();
    const signed = await signDevnetAuthorization(net.devnet, payer, { to: payTo, value: 777n });
    const request = requestV1(requirementsV1(net.devnet, payTo, 777n), signed);
    expect(await verifyOf(net.facilitator.verify(request))).toEqual({
      isValid: true,
      payer: payer.address,
    });
    const s = await settleOf(net.facilitator.settle(request));
    expect(s).toMatchObject({ success: true, network: 'base-sepolia', payer: payer.address });
    expect(s.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await balanceOf(net.devnet, payTo)).toBe(777n);
    const replay = await settleOf(net.facilitator.settle(request));
    expect(replay).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_nonce_already_used',
    });
    expect(await balanceOf(net.devnet, payTo)).toBe(777n);
  });

  it('refuses insufficient funds with the official reason', async () => {
    const payer = account(net.devnet, 3);
    const payTo = freshAddress();
    const tooMuch = (await balanceOf(net.devnet, payer.address)) + 1n;
    const { request } = await paymentV2(net.devnet, payer, payTo, tooMuch);
    expect(await verifyOf(net.facilitator.verify(request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_insufficient_balance',
      payer: payer.address,
    });
    expect(await settleOf(net.facilitator.settle(request))).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_insufficient_balance',
      transaction: '',
    });
    expect(await balanceOf(net.devnet, payTo)).toBe(0n);
  });

  it('refuses a payment to another recipient than payTo', async () => {
    const payer = account(net.devnet, 3);
    const payTo = freshAddress();
    const signed = await signDevnetAuthorization(net.devnet, payer, {
      to: freshAddress(),
      value: 100n,
    });
    const request = requestV2(requirementsV2(net.devnet, payTo, 100n), signed);
    expect(await verifyOf(net.facilitator.verify(request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_recipient_mismatch',
    });
    expect(await settleOf(net.facilitator.settle(request))).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_recipient_mismatch',
    });
  });

  it('refuses an expired authorization and one not yet valid', async () => {
    const payer = account(net.devnet, 3);
    const payTo = freshAddress();
    const expired = await paymentV2(net.devnet, payer, payTo, 100n, { validBeforeOffset: 3 });
    expect(await verifyOf(net.facilitator.verify(expired.request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_payload_authorization_valid_before',
    });
    const future = await paymentV2(net.devnet, payer, payTo, 100n, { validAfterOffset: 600 });
    expect(await verifyOf(net.facilitator.verify(future.request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_payload_authorization_valid_after',
    });
    expect(await settleOf(net.facilitator.settle(expired.request))).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_payload_authorization_valid_before',
    });
  });

  it('refuses underpayment (v2 and v1 official codes)', async () => {
    const payer = account(net.devnet, 3);
    const payTo = freshAddress();
    const signed = await signDevnetAuthorization(net.devnet, payer, { to: payTo, value: 999n });
    const v2 = requestV2(requirementsV2(net.devnet, payTo, 1_000n), signed);
    expect(await verifyOf(net.facilitator.verify(v2))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_payload_authorization_value_mismatch',
    });
    const v1 = requestV1(requirementsV1(net.devnet, payTo, 1_000n), signed);
    expect(await verifyOf(net.facilitator.verify(v1))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_authorization_value',
    });
    expect(await settleOf(net.facilitator.settle(v2))).toMatchObject({
      success: false,
      transaction: '',
    });
    expect(await balanceOf(net.devnet, payTo)).toBe(0n);
  });

  it('refuses a signature over the wrong EIP-712 domain', async () => {
    const payer = account(net.devnet, 3);
    const payTo = freshAddress();
    const { request } = await paymentV2(net.devnet, payer, payTo, 100n, { domainName: 'USD Coin' });
    expect(await verifyOf(net.facilitator.verify(request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_signature',
    });
  });

  it('answers malformed input, foreign networks and schemes with spec reasons instead of throwing', async () => {
    const payer = account(net.devnet, 3);
    const payTo = freshAddress();
    const { request } = await paymentV2(net.devnet, payer, payTo, 100n);
    const broken = JSON.parse(JSON.stringify(request)) as {
      paymentPayload: { payload: { authorization: { value: string } } };
    };
    broken.paymentPayload.payload.authorization.value = 'lots';
    expect(await verifyOf(net.facilitator.verify(broken as never))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_payload',
    });
    const mainnet = {
      ...request,
      paymentRequirements: { ...requirementsV2(net.devnet, payTo, 100n), network: 'eip155:8453' },
    };
    expect(await verifyOf(net.facilitator.verify(mainnet as never))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_network',
    });
    const v3 = { ...request, x402Version: 3 };
    expect(await verifyOf(net.facilitator.verify(v3 as never))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_x402_version',
    });
    expect(await settleOf(net.facilitator.settle(broken as never))).toMatchObject({
      success: false,
      errorReason: 'invalid_payload',
      transaction: '',
    });
  });

  it('settles 10 concurrent distinct payments from one settler without a nonce race', async () => {
    const payees = Array.from({ length: 10 }, () => freshAddress());
    const payers = [4, 5, 6, 7, 8].map((i) => account(net.devnet, i));
    const requests = await Promise.all(
      payees.map((payTo, i) =>
        paymentV2(net.devnet, payers[i % payers.length]!, payTo, BigInt(1_000 + i)),
      ),
    );
    const results = await Promise.all(
      requests.map(({ request }) => settleOf(net.facilitator.settle(request))),
    );
    for (const r of results) expect(r).toMatchObject({ success: true });
    expect(new Set(results.map((r) => r.transaction)).size).toBe(10);
    const balances = await Promise.all(payees.map((p) => balanceOf(net.devnet, p)));
    expect(balances).toEqual(payees.map((_, i) => BigInt(1_000 + i)));
  });

  it('settles one of two concurrent settles of the same payment; the other is refused, one transfer', async () => {
    const payTo = freshAddress();
    const { request } = await paymentV2(net.devnet, account(net.devnet, 8), payTo, 321n);
    const [a, b] = await Promise.all([
      settleOf(net.facilitator.settle(request)),
      settleOf(net.facilitator.settle(request)),
    ]);
    expect([a.success, b.success].sort()).toEqual([false, true]);
    expect((a.success ? b : a).errorReason).toBe('invalid_exact_evm_nonce_already_used');
    expect(await balanceOf(net.devnet, payTo)).toBe(321n);
  });

  it('reports an unreachable RPC as unavailable, never as an invalid payment', async () => {
    // Construction needs the chain id: build against a live devnet, then kill that devnet.
    const lonely = await startDevnetFixture({
      chainId: 84532,
      facilitator: { settlerIndex: 8, rpcTimeoutMs: 1_000 },
    });
    try {
      const { request } = await paymentV2(
        lonely.devnet,
        account(lonely.devnet, 1),
        freshAddress(),
        10n,
      );
      await lonely.devnet.stop();
      const v = await lonely.facilitator.verify(request);
      expect(v).toMatchObject({ kind: 'unavailable', failure: 'network' });
      const s = await lonely.facilitator.settle(request);
      expect(s).toMatchObject({ kind: 'unavailable', failure: 'network' });
    } finally {
      await lonely.stop();
    }
  });
});
