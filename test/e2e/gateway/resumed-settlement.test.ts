/**
 * A settlement whose first outcome was unknown, decided on the chain when it is resumed. The payer
 * cancels the authorization (cancelAuthorization, landed before our transfer in the same block),
 * so our transaction reverts: the retry must not be served, and "nonce already used" or any other
 * facilitator answer must not be read as payment. The gateway reads the devnet through `rpcUrls`,
 * with the built-in facilitator over HTTP as a remote one. An official client, which never resends
 * a signature, is served through the credit of a settlement the chain shows landed.
 */
import type { Hex } from 'viem';
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { describe, expect, it } from 'vitest';
import {
  authorizationState,
  balanceOf,
  cancelAuthorization,
  newPayer,
  publicClient,
  mineBlocks,
  transfersTo,
} from '../../helpers/devnet.js';
import {
  PRICE,
  revenueOnMetrics,
  upstreamCalls,
  useGatewaySuite,
} from '../../helpers/gateway-stack.js';
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

  it('an official client left with 503 settlement_pending signs a new payment: the chain shows the first landed, served through it', async () => {
    const stack = suite.stack('http');
    const payer = await newPayer(suite.devnet, 10_000n);
    await mineBlocks(suite.devnet);
    const payeeBefore = await balanceOf(suite.devnet, stack.payTo);
    const revenueBefore = await revenueOnMetrics(stack);
    const sent: string[] = [];
    const client = new x402Client();
    registerExactEvmScheme(client, { signer: payer.account });
    const pay = wrapFetchWithPayment((input, init) => {
      const headers = new Headers(input instanceof Request ? input.headers : undefined);
      new Headers(init?.headers).forEach((v, k) => headers.set(k, v));
      const header = headers.get('payment-signature');
      if (header !== null) sent.push(header);
      return fetch(input, init);
    }, client);

    // The block is late: the facilitator gives up waiting, the settlement is unknown.
    const pending = await pay(`${stack.url}/v1/items/late-1`);
    expect(pending.status).toBe(503);
    await mineBlocks(suite.devnet); // it lands after all

    // The official client never resends a signature: asked again, it signs a new payment.
    const served = await pay(`${stack.url}/v1/items/late-2`);
    expect(served.status).toBe(200);
    expect(sent).toHaveLength(2);
    const first = authorizationOf(decodeHeader(sent[0]));
    const second = authorizationOf(decodeHeader(sent[1]));
    const receipt = decodePaymentResponseHeader(served.headers.get('payment-response')!);
    const landed = await transfersTo(suite.devnet, stack.payTo);
    expect(receipt).toMatchObject({ success: true, transaction: landed.at(-1)!.transactionHash });
    expect(landed.at(-1)).toMatchObject({ from: payer.address, value: PRICE.item });
    expect(await authorizationState(suite.devnet, payer.address, first.nonce)).toBe(true);
    expect(await authorizationState(suite.devnet, payer.address, second.nonce)).toBe(false);
    expect(await balanceOf(suite.devnet, stack.payTo)).toBe(payeeBefore + PRICE.item);
    expect(await revenueOnMetrics(stack)).toBe(revenueBefore + PRICE.item);
    expect(upstreamCalls(stack, '/v1/items/late-2')).toBe(1);
  });
});
