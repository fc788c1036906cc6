import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalFacilitator, type LocalFacilitator } from '../../../src/facilitator/index.js';
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
  signAuthorization,
  startDevnetWithFacilitator,
  startTestDevnet,
  type Devnet,
  type DevnetWithFacilitator,
} from './setup.js';

let devnet: Devnet;
let facilitator: LocalFacilitator;
let stack: DevnetWithFacilitator | undefined;

beforeAll(async () => {
  stack = await startDevnetWithFacilitator({ chainId: 84532 });
  ({ devnet, facilitator } = stack);
});
afterAll(async () => {
  await stack?.stop();
});

function value<T>(r: FacilitatorResult<T>): T {
  if (r.kind !== 'ok') throw new Error(`facilitator unavailable: ${r.failure} ${r.detail}`);
  return r.value;
}
const verifyOf = async (p: Promise<FacilitatorResult<VerifyResponse>>) => value(await p);
const settleOf = async (p: Promise<FacilitatorResult<SettleResponse>>) => value(await p);

describe('local facilitator on the devnet', () => {
  it('serves the RPC chain for v1 and v2 and names its settler', async () => {
    const s = value(await facilitator.supported());
    expect(s.kinds).toEqual(
      expect.arrayContaining([
        { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
        { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
      ]),
    );
    expect(s.kinds).toHaveLength(2);
    expect((s as unknown as { signers: Record<string, string[]> }).signers['eip155:*']).toEqual([
      account(devnet, SETTLER_INDEX).address,
    ]);
  });

  it('verifies and settles a real v2 payment: exact balances, authorization used, tx on chain', async () => {
    const payer = account(devnet, 1);
    const payTo = freshAddress();
    const { request, signed } = await paymentV2(devnet, payer, payTo, 12_345n);
    const before = await balanceOf(devnet, payer.address);

    const v = await verifyOf(facilitator.verify(request));
    expect(v).toEqual({ isValid: true, payer: payer.address });

    const s = await settleOf(facilitator.settle(request));
    expect(s.success).toBe(true);
    expect(s.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(s.network).toBe('eip155:84532');
    expect(s.payer).toBe(payer.address);
    const receipt = await publicClient(devnet).getTransactionReceipt({ hash: s.transaction as `0x${string}` });
    expect(receipt.status).toBe('success');
    expect(receipt.from.toLowerCase()).toBe(account(devnet, SETTLER_INDEX).address.toLowerCase());

    expect(await balanceOf(devnet, payTo)).toBe(12_345n);
    expect(await balanceOf(devnet, payer.address)).toBe(before - 12_345n);
    expect(await authorizationState(devnet, payer.address, signed.authorization.nonce)).toBe(true);

    // Replay: refused with the official nonce reason, nothing moves, nothing broadcast.
    const replay = await settleOf(facilitator.settle(request));
    expect(replay).toMatchObject({ success: false, errorReason: 'invalid_exact_evm_nonce_already_used', transaction: '' });
    const again = await verifyOf(facilitator.verify(request));
    expect(again).toMatchObject({ isValid: false, invalidReason: 'invalid_exact_evm_nonce_already_used' });
    expect(await balanceOf(devnet, payTo)).toBe(12_345n);
    expect(await balanceOf(devnet, payer.address)).toBe(before - 12_345n);
  });

  it('verifies and settles a real v1 payment, and refuses its replay', async () => {
    const payer = account(devnet, 2);
    const payTo = freshAddress();
    const signed = await signAuthorization(devnet, payer, { to: payTo, value: 777n });
    const request = requestV1(requirementsV1(devnet, payTo, 777n), signed);
    expect(await verifyOf(facilitator.verify(request))).toEqual({ isValid: true, payer: payer.address });
    const s = await settleOf(facilitator.settle(request));
    expect(s).toMatchObject({ success: true, network: 'base-sepolia', payer: payer.address });
    expect(s.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await balanceOf(devnet, payTo)).toBe(777n);
    const replay = await settleOf(facilitator.settle(request));
    expect(replay).toMatchObject({ success: false, errorReason: 'invalid_exact_evm_nonce_already_used' });
    expect(await balanceOf(devnet, payTo)).toBe(777n);
  });

  it('refuses insufficient funds with the official reason', async () => {
    const payer = account(devnet, 3);
    const payTo = freshAddress();
    const tooMuch = (await balanceOf(devnet, payer.address)) + 1n;
    const { request } = await paymentV2(devnet, payer, payTo, tooMuch);
    expect(await verifyOf(facilitator.verify(request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_insufficient_balance',
      payer: payer.address,
    });
    expect(await settleOf(facilitator.settle(request))).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_insufficient_balance',
      transaction: '',
    });
    expect(await balanceOf(devnet, payTo)).toBe(0n);
  });

  it('refuses a payment to another recipient than payTo', async () => {
    const payer = account(devnet, 3);
    const payTo = freshAddress();
    const signed = await signAuthorization(devnet, payer, { to: freshAddress(), value: 100n });
    const request = requestV2(requirementsV2(devnet, payTo, 100n), signed);
    expect(await verifyOf(facilitator.verify(request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_recipient_mismatch',
    });
    expect(await settleOf(facilitator.settle(request))).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_recipient_mismatch',
    });
  });

  it('refuses an expired authorization and one not yet valid', async () => {
    const payer = account(devnet, 3);
    const payTo = freshAddress();
    const expired = await paymentV2(devnet, payer, payTo, 100n, { validBeforeOffset: 3 });
    expect(await verifyOf(facilitator.verify(expired.request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_payload_authorization_valid_before',
    });
    const future = await paymentV2(devnet, payer, payTo, 100n, { validAfterOffset: 600 });
    expect(await verifyOf(facilitator.verify(future.request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_payload_authorization_valid_after',
    });
    expect(await settleOf(facilitator.settle(expired.request))).toMatchObject({
      success: false,
      errorReason: 'invalid_exact_evm_payload_authorization_valid_before',
    });
  });

  it('refuses underpayment (v2 and v1 official codes)', async () => {
    const payer = account(devnet, 3);
    const payTo = freshAddress();
    const signed = await signAuthorization(devnet, payer, { to: payTo, value: 999n });
    const v2 = requestV2(requirementsV2(devnet, payTo, 1_000n), signed);
    expect(await verifyOf(facilitator.verify(v2))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_payload_authorization_value_mismatch',
    });
    const v1 = requestV1(requirementsV1(devnet, payTo, 1_000n), signed);
    expect(await verifyOf(facilitator.verify(v1))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_authorization_value',
    });
    expect(await settleOf(facilitator.settle(v2))).toMatchObject({ success: false, transaction: '' });
    expect(await balanceOf(devnet, payTo)).toBe(0n);
  });

  it('refuses a signature over the wrong EIP-712 domain', async () => {
    const payer = account(devnet, 3);
    const payTo = freshAddress();
    const { request } = await paymentV2(devnet, payer, payTo, 100n, { domainName: 'USD Coin' });
    expect(await verifyOf(facilitator.verify(request))).toMatchObject({
      isValid: false,
      invalidReason: 'invalid_exact_evm_signature',
    });
  });

  it('answers malformed input, foreign networks and schemes with spec reasons instead of throwing', async () => {
    const payer = account(devnet, 3);
    const payTo = freshAddress();
    const { request } = await paymentV2(devnet, payer, payTo, 100n);
    const broken = JSON.parse(JSON.stringify(request)) as { paymentPayload: { payload: { authorization: { value: string } } } };
    broken.paymentPayload.payload.authorization.value = 'lots';
    expect(await verifyOf(facilitator.verify(broken as never))).toMatchObject({ isValid: false, invalidReason: 'invalid_payload' });
    const mainnet = { ...request, paymentRequirements: { ...requirementsV2(devnet, payTo, 100n), network: 'eip155:8453' } };
    expect(await verifyOf(facilitator.verify(mainnet as never))).toMatchObject({ isValid: false, invalidReason: 'invalid_network' });
    const v3 = { ...request, x402Version: 3 };
    expect(await verifyOf(facilitator.verify(v3 as never))).toMatchObject({ isValid: false, invalidReason: 'invalid_x402_version' });
    expect(await settleOf(facilitator.settle(broken as never))).toMatchObject({
      success: false,
      errorReason: 'invalid_payload',
      transaction: '',
    });
  });

  it('settles 10 concurrent distinct payments from one settler without a nonce race', async () => {
    const payees = Array.from({ length: 10 }, () => freshAddress());
    const payers = [4, 5, 6, 7, 8].map((i) => account(devnet, i));
    const requests = await Promise.all(
      payees.map((payTo, i) => paymentV2(devnet, payers[i % payers.length]!, payTo, BigInt(1_000 + i))),
    );
    const results = await Promise.all(requests.map(({ request }) => settleOf(facilitator.settle(request))));
    for (const r of results) expect(r).toMatchObject({ success: true });
    expect(new Set(results.map((r) => r.transaction)).size).toBe(10);
    const balances = await Promise.all(payees.map((p) => balanceOf(devnet, p)));
    expect(balances).toEqual(payees.map((_, i) => BigInt(1_000 + i)));
  });

  it('settles one of two concurrent settles of the same payment; the other is refused, one transfer', async () => {
    const payTo = freshAddress();
    const { request } = await paymentV2(devnet, account(devnet, 8), payTo, 321n);
    const [a, b] = await Promise.all([settleOf(facilitator.settle(request)), settleOf(facilitator.settle(request))]);
    expect([a.success, b.success].sort()).toEqual([false, true]);
    expect((a.success ? b : a).errorReason).toBe('invalid_exact_evm_nonce_already_used');
    expect(await balanceOf(devnet, payTo)).toBe(321n);
  });

  it('reports an unreachable RPC as unavailable, never as an invalid payment', async () => {
    // Construction needs the chain id: build against a live devnet, then kill that devnet.
    const lonely = await startTestDevnet({ chainId: 84532 });
    const f = await createLocalFacilitator({ rpcUrl: lonely.rpcUrl, privateKey: account(lonely, 8).privateKey, rpcTimeoutMs: 1_000 });
    try {
      const { request } = await paymentV2(lonely, account(lonely, 1), freshAddress(), 10n);
      await lonely.stop();
      const v = await f.verify(request);
      expect(v).toMatchObject({ kind: 'unavailable', failure: 'network' });
      const s = await f.settle(request);
      expect(s).toMatchObject({ kind: 'unavailable', failure: 'network' });
    } finally {
      await f.close();
      await lonely.stop();
    }
  });
});
