/**
 * Official x402 clients pay through the gateway and real tokens move: @x402/fetch (v2 challenge, and
 * the v1 body when the v2 header is hidden from it) and x402-fetch@1.2.0 (v1), against the built-in
 * facilitator in-process and over HTTP. On-chain evidence for each paid call; the revenue counter
 * equals the transfers to payTo.
 */
import { decodePaymentResponseHeader, wrapFetchWithPayment, x402Client } from '@x402/fetch';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import type { Address, Hex } from 'viem';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationState,
  balanceOf,
  newPayer,
  transfersTo,
  type Payer,
} from '../../helpers/devnet.js';
import {
  MODES,
  PRICE,
  revenueOnMetrics,
  upstreamCalls,
  useGatewaySuite,
  type Stack,
} from '../../helpers/gateway-stack.js';
import { authorizationOf } from '../../helpers/payments.js';
import { decodeHeader } from '../../helpers/raw-http.js';
import { loadV1Client, type V1FetchModule } from '../../helpers/v1-client.js';

let v1: V1FetchModule;
beforeAll(async () => {
  v1 = await loadV1Client();
});
const suite = useGatewaySuite();

/** Records the payment header each request carried (to read the signed nonce back). */
function recordingFetch(base: typeof fetch, sent: unknown[], hideV2 = false): typeof fetch {
  return async (input, init) => {
    const headers = new Headers(input instanceof Request ? input.headers : undefined);
    new Headers(init?.headers).forEach((v, k) => headers.set(k, v));
    const header = headers.get('payment-signature') ?? headers.get('x-payment');
    if (header) sent.push(decodeHeader(header));
    const res = await base(input, init);
    if (!hideV2 || res.status !== 402) return res;
    // Without the v2 header the client falls back to the v1 JSON body (and X-PAYMENT).
    const stripped = new Headers(res.headers);
    stripped.delete('payment-required');
    return new Response(await res.text(), { status: 402, headers: stripped });
  };
}

function v2Client(payer: Payer): x402Client {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: payer.account });
  return client;
}

/** Payee +price, payer −price, the authorization used, one more Transfer event to payTo. */
async function expectSettled(
  stack: Stack,
  payer: Payer,
  payload: unknown,
  price: bigint,
  before: { payee: bigint; payer: bigint; transfers: number },
  tx: Hex,
): Promise<void> {
  expect(await balanceOf(suite.devnet, stack.payTo)).toBe(before.payee + price);
  expect(await balanceOf(suite.devnet, payer.address)).toBe(before.payer - price);
  const { from, nonce } = authorizationOf(payload);
  expect(from).toBe(payer.address);
  expect(await authorizationState(suite.devnet, payer.address, nonce)).toBe(true);
  const transfers = await transfersTo(suite.devnet, stack.payTo);
  expect(transfers).toHaveLength(before.transfers + 1);
  expect(transfers.at(-1)).toEqual({
    from: payer.address,
    to: stack.payTo,
    value: price,
    transactionHash: tx,
  });
}

async function snapshot(stack: Stack, payer: Address) {
  return {
    payee: await balanceOf(suite.devnet, stack.payTo),
    payer: await balanceOf(suite.devnet, payer),
    transfers: (await transfersTo(suite.devnet, stack.payTo)).length,
  };
}

describe.each(MODES)('official clients through the gateway (facilitator %s)', (mode) => {
  const stack = (): Stack => suite.stack(mode);

  it('@x402/fetch pays the v2 challenge', async () => {
    const payer = await newPayer(suite.devnet, 10_000n);
    const before = await snapshot(stack(), payer.address);
    const sent: unknown[] = [];
    const pay = wrapFetchWithPayment(recordingFetch(fetch, sent), v2Client(payer));
    const res = await pay(`${stack().url}/v1/quote?sym=ETH`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, url: '/v1/quote?sym=ETH' });
    const receipt = decodePaymentResponseHeader(res.headers.get('payment-response')!);
    expect(receipt).toMatchObject({ success: true, network: 'eip155:84532', payer: payer.address });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ x402Version: 2 });
    await expectSettled(stack(), payer, sent[0], PRICE.quote, before, receipt.transaction as Hex);
  });

  it('@x402/fetch pays through the v1 body when it cannot see PAYMENT-REQUIRED', async () => {
    const payer = await newPayer(suite.devnet, 10_000n);
    const before = await snapshot(stack(), payer.address);
    const sent: unknown[] = [];
    const pay = wrapFetchWithPayment(recordingFetch(fetch, sent, true), v2Client(payer));
    const res = await pay(`${stack().url}/v1/items/v2-client-v1-body`);
    expect(res.status).toBe(200);
    const receipt = decodePaymentResponseHeader(res.headers.get('x-payment-response')!);
    expect(receipt).toMatchObject({ success: true, network: 'base-sepolia', payer: payer.address });
    expect(sent).toEqual([
      expect.objectContaining({ x402Version: 1, scheme: 'exact', network: 'base-sepolia' }),
    ]);
    await expectSettled(stack(), payer, sent[0], PRICE.item, before, receipt.transaction as Hex);
  });

  it('the official v1 client x402-fetch@1.2.0 pays', async () => {
    const payer = await newPayer(suite.devnet, 10_000n);
    const before = await snapshot(stack(), payer.address);
    const sent: unknown[] = [];
    const signer = await v1.createSigner('base-sepolia', payer.privateKey);
    const pay = v1.wrapFetchWithPayment(recordingFetch(fetch, sent), signer, 10_000n);
    const calls = upstreamCalls(stack(), '/v1/items/x402-fetch');
    const res = await pay(`${stack().url}/v1/items/x402-fetch`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, url: '/v1/items/x402-fetch' });
    const receipt = v1.decodeXPaymentResponse(res.headers.get('x-payment-response')!);
    expect(receipt).toMatchObject({ success: true, network: 'base-sepolia', payer: payer.address });
    expect(sent).toEqual([
      expect.objectContaining({ x402Version: 1, scheme: 'exact', network: 'base-sepolia' }),
    ]);
    expect(upstreamCalls(stack(), '/v1/items/x402-fetch')).toBe(calls + 1);
    await expectSettled(stack(), payer, sent[0], PRICE.item, before, receipt.transaction);
  });

  it('the revenue counter on /metrics equals the transfers to payTo on-chain', async () => {
    const onChain = (await transfersTo(suite.devnet, stack().payTo)).reduce(
      (sum, t) => sum + t.value,
      0n,
    );
    expect(onChain).toBe(PRICE.quote + 2n * PRICE.item);
    expect(await balanceOf(suite.devnet, stack().payTo)).toBe(onChain);
    expect(await revenueOnMetrics(stack())).toBe(onChain);
  });
});
