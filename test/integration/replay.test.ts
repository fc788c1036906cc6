import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { decodeHeader } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';
import { testAccount } from '../helpers/payments.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('replays', () => {
  it('a settled payment sent again gets 402 payment_already_used with no facilitator or upstream call', async () => {
    const payment = await signFor(h.url, '/v1/quote', { version: 2 });
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(200);
    const verify = h.facilitator.calls.verify;
    const settle = h.facilitator.calls.settle;
    const upstream = h.upstream.calls.length;
    for (const path of ['/v1/quote', '/v1/fail', '/v1/%71uote']) {
      const res = await payWith(h.url, path, payment);
      expect(res.status).toBe(402);
      expect(decodeHeader(res.headers['payment-required']).error).toBe('payment_already_used');
    }
    expect(h.facilitator.calls.verify).toBe(verify);
    expect(h.facilitator.calls.settle).toBe(settle);
    expect(h.upstream.calls.length).toBe(upstream);
  });

  it('the same authorization re-encoded as v1 is still the same authorization', async () => {
    const account = testAccount(1);
    const nonce = `0x${'ab'.repeat(32)}` as const;
    const v2 = await signFor(h.url, '/v1/quote', { version: 2, account, nonce });
    expect((await payWith(h.url, '/v1/quote', v2)).status).toBe(200);
    const v1 = await signFor(h.url, '/v1/quote', { version: 1, account, nonce });
    const res = await payWith(h.url, '/v1/quote', v1);
    expect(res.status).toBe(402);
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'payment_already_used' });
  });

  it('20 concurrent copies of one payment: one upstream call, one transfer, 19 refusals', async () => {
    const payment = await signFor(h.url, '/v1/items/99', { version: 2, account: testAccount(4) });
    const upstream = h.upstream.calls.filter((c) => c.url === '/v1/items/99').length;
    const transfers = h.facilitator.transfers.length;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => payWith(h.url, '/v1/items/99', payment)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 402)).toHaveLength(19);
    for (const r of results.filter((x) => x.status === 402)) {
      expect(JSON.parse(r.body)).toMatchObject({ reason: 'payment_already_used' });
    }
    expect(h.upstream.calls.filter((c) => c.url === '/v1/items/99').length).toBe(upstream + 1);
    expect(h.facilitator.transfers.length).toBe(transfers + 1);
  });

  it('20 concurrent distinct payments all settle', async () => {
    const payments = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        signFor(h.url, `/v1/items/d${i}`, { version: ((i % 2) + 1) as 1 | 2 }),
      ),
    );
    const transfers = h.facilitator.transfers.length;
    const results = await Promise.all(payments.map((p, i) => payWith(h.url, `/v1/items/d${i}`, p)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(h.facilitator.transfers.length).toBe(transfers + 20);
  });
});
