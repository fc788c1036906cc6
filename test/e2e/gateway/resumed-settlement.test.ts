/**
 * A settlement whose first outcome was unknown, decided on the chain when it is resumed. The payer
 * cancels the authorization (cancelAuthorization, landed before our transfer in the same block),
 * so our transaction reverts: the retry must not be served, and "nonce already used" or any other
 * facilitator answer must not be read as payment. The gateway reads the devnet through `rpcUrls`,
 * with the built-in facilitator over HTTP as a remote one.
 */
import type { Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import {
  balanceOf,
  cancelAuthorization,
  newPayer,
  publicClient,
  mineBlocks,
} from '../../helpers/devnet.js';
import { revenueOnMetrics, upstreamCalls, useGatewaySuite } from '../../helpers/gateway-stack.js';
import { payWith, signFor } from '../../helpers/pay.js';
import { authorizationOf } from '../../helpers/payments.js';
import { decodeHeader } from '../../helpers/raw-http.js';

const suite = useGatewaySuite({
  modes: ['http'],
  devnet: { mining: false },
  stack: { receiptTimeoutMs: 300, settleTimeoutMs: 3_000, rpcUrls: true },
});

describe('a resumed settlement, decided on the chain', () => {
  it('the payer cancels before our transfer lands → the retry is 402 settlement_failed, nothing served or counted', async () => {
    const stack = suite.stack('http');
    const payer = await newPayer(suite.devnet, 10_000n);
    const path = '/v1/items/canceled';
    const payment = await signFor(stack.url, path, { account: payer.account });

    const pending = await payWith(stack.url, path, payment);
    expect(pending.status).toBe(503);
    const hash = decodeHeader(pending.headers['payment-response']).transaction as Hex;
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);

    await cancelAuthorization(suite.devnet, payer.account, authorizationOf(payment.payload).nonce);
    await mineBlocks(suite.devnet);
    const receipt = await publicClient(suite.devnet).getTransactionReceipt({ hash });
    expect(receipt.status).toBe('reverted');

    const retry = await payWith(stack.url, path, payment);
    expect(retry.status).toBe(402);
    expect(retry.body).not.toContain('"path"'); // the upstream's body never leaves
    expect(decodeHeader(retry.headers['payment-response'])).toMatchObject({
      success: false,
      errorReason: 'settlement_failed',
    });
    // Spent: the same signature can never pay now.
    const again = await payWith(stack.url, path, payment);
    expect(again.status).toBe(402);
    expect(JSON.parse(again.body)).toMatchObject({ reason: 'payment_already_used' });

    expect(await balanceOf(suite.devnet, stack.payTo)).toBe(0n);
    expect(await balanceOf(suite.devnet, payer.address)).toBe(10_000n);
    expect(await revenueOnMetrics(stack)).toBe(0n);
    expect(upstreamCalls(stack, path)).toBe(2); // both bodies withheld
  });
});
