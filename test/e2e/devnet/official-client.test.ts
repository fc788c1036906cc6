/**
 * The OFFICIAL x402 client (@x402/core x402Client + @x402/evm exact client scheme) signs payments
 * that the built-in facilitator accepts and settles, for v2 and v1 requirements.
 */
import { x402Client } from '@x402/core/client';
import type { PaymentRequired } from '@x402/core/types';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import type { FacilitatorRequest } from '../../../src/verify/types.js';
import type { PaymentRequirementsV1 } from '../../../src/x402/types.js';
import {
  account,
  authorizationState,
  balanceOf,
  freshAddress,
  requirementsV1,
  requirementsV2,
  useDevnet,
} from '../../helpers/devnet.js';

const net = useDevnet({ chainId: 84532, facilitator: {} });

function officialClient(payerIndex: number): x402Client {
  const client = new x402Client();
  registerExactEvmScheme(client, {
    signer: privateKeyToAccount(account(net.devnet, payerIndex).privateKey),
  });
  return client;
}

describe('official @x402 client against the built-in facilitator', () => {
  it('v2: x402Client.createPaymentPayload → verify valid → settle moves exactly the amount', async () => {
    const payer = account(net.devnet, 1);
    const payTo = freshAddress();
    const requirements = requirementsV2(net.devnet, payTo, 2_500n);
    const paymentRequired = {
      x402Version: 2,
      error: 'Payment required',
      resource: { url: 'http://127.0.0.1/paid', description: 'e2e', mimeType: 'application/json' },
      accepts: [requirements],
    } as unknown as PaymentRequired;
    const payload = await officialClient(1).createPaymentPayload(paymentRequired);
    expect(payload.x402Version).toBe(2);
    const request: FacilitatorRequest = {
      x402Version: 2,
      paymentPayload: payload,
      paymentRequirements: requirements,
    };

    expect(await net.facilitator.verify(request)).toEqual({
      kind: 'ok',
      status: 200,
      value: { isValid: true, payer: payer.address },
    });
    const before = await balanceOf(net.devnet, payer.address);
    const settled = await net.facilitator.settle(request);
    expect(settled).toMatchObject({
      kind: 'ok',
      value: { success: true, network: 'eip155:84532', payer: payer.address },
    });
    expect(await balanceOf(net.devnet, payTo)).toBe(2_500n);
    expect(await balanceOf(net.devnet, payer.address)).toBe(before - 2_500n);
    const nonce = (payload.payload as { authorization: { nonce: `0x${string}` } }).authorization
      .nonce;
    expect(await authorizationState(net.devnet, payer.address, nonce)).toBe(true);
  });

  it('v1: the official client answers a v1 402 body with a v1 payload the facilitator settles', async () => {
    const payTo = freshAddress();
    const requirements: PaymentRequirementsV1 = requirementsV1(net.devnet, payTo, 1_500n);
    const paymentRequired = {
      x402Version: 1,
      error: 'X-PAYMENT header is required',
      accepts: [requirements],
    } as unknown as PaymentRequired;
    const payload = await officialClient(2).createPaymentPayload(paymentRequired);
    expect(payload.x402Version).toBe(1);
    const request: FacilitatorRequest = {
      x402Version: 1,
      paymentPayload: payload,
      paymentRequirements: requirements,
    };
    expect(await net.facilitator.verify(request)).toMatchObject({
      kind: 'ok',
      value: { isValid: true },
    });
    expect(await net.facilitator.settle(request)).toMatchObject({
      kind: 'ok',
      value: { success: true, network: 'base-sepolia' },
    });
    expect(await balanceOf(net.devnet, payTo)).toBe(1_500n);
  });
});
