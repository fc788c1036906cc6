import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wrapFetchWithPayment, x402Client, decodePaymentResponseHeader } from '@x402/fetch';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { testAccount, TEST_PAY_TO } from '../helpers/payments.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

function officialClient() {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: testAccount(2) });
  return client;
}

describe('the official @x402/fetch client', () => {
  it('pays the v2 challenge and gets the resource with a PAYMENT-RESPONSE', async () => {
    const pay = wrapFetchWithPayment(fetch, officialClient());
    const transfers = h.facilitator.transfers.length;
    const res = await pay(`${h.url}/v1/items/official`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, url: '/v1/items/official' });
    const receipt = decodePaymentResponseHeader(res.headers.get('payment-response')!);
    expect(receipt).toMatchObject({ success: true, network: 'eip155:84532' });
    expect(h.facilitator.transfers.length).toBe(transfers + 1);
    expect(h.facilitator.transfers.at(-1)).toMatchObject({ to: TEST_PAY_TO, value: 2000n });
  });

  it('pays through the v1 body when the PAYMENT-REQUIRED header is not visible to it', async () => {
    // A fetch that hides the v2 header makes the client fall back to the v1 JSON body (and X-PAYMENT).
    const hideV2: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (res.status !== 402) return res;
      const headers = new Headers(res.headers);
      headers.delete('payment-required');
      return new Response(await res.text(), { status: 402, headers });
    };
    const pay = wrapFetchWithPayment(hideV2, officialClient());
    const res = await pay(`${h.url}/v1/items/official-v1`);
    expect(res.status).toBe(200);
    const receipt = decodePaymentResponseHeader(res.headers.get('x-payment-response')!);
    expect(receipt).toMatchObject({ success: true, network: 'base-sepolia' });
    const last = h.facilitator.requests.filter((r) => r.path.endsWith('/settle')).at(-1)!;
    expect(last.body).toMatchObject({ x402Version: 1 });
  });
});
