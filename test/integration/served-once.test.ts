/**
 * One settlement, one whole response, under the races the mixed fault run found: a client that
 * leaves while its settlement is in flight is charged and NOT delivered (its retry is served); two
 * retries of one redeemable payment at once serve one response (the other hears 503, retry); and a
 * payer's new payment never takes the credit of a payment whose own retry is being served. Real
 * gateway, real SQLite ledger, a loopback facilitator checking EIP-712 signatures.
 */
import http from 'node:http';
import { join } from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerRecord } from '../../src/ledger/index.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { payWith, signFor, type PaymentHeader } from '../helpers/pay.js';
import { decodeHeader } from '../helpers/raw-http.js';
import { readBook } from '../helpers/read-book.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

function record(path: string): LedgerRecord | undefined {
  return readBook(join(h.ledgerDir, 'x402-ledger.sqlite')).find(
    (r) => r.path === path && r.state !== 'released',
  );
}

/** Sends the paid request and leaves (destroys the socket) once its settle request has arrived. */
async function payAndLeaveDuringSettle(path: string, payment: PaymentHeader): Promise<void> {
  const url = new URL(h.url);
  const settles = h.facilitator.calls.settle;
  const req = http.request({
    host: url.hostname,
    port: url.port,
    path,
    agent: false,
    headers: { [payment.name]: payment.value },
  });
  req.on('error', () => undefined);
  req.end();
  const deadline = Date.now() + 5_000;
  while (h.facilitator.calls.settle === settles) {
    if (Date.now() > deadline) throw new Error('the settle request never arrived');
    await pause(5);
  }
  req.destroy();
}

/** A settled payment whose client left while its settlement was in flight. */
async function chargedWhileAway(path: string) {
  const account = privateKeyToAccount(generatePrivateKey());
  const payment = await signFor(h.url, path, { account });
  const settles = h.facilitator.calls.settle;
  h.facilitator.setLatency(300, 'settle'); // long enough to leave during it
  try {
    await payAndLeaveDuringSettle(path, payment);
    await pause(500); // the settlement finishes without its client
  } finally {
    h.facilitator.setLatency(0, 'settle');
  }
  expect(h.facilitator.calls.settle).toBe(settles + 1);
  return { account, payment };
}

describe('one settlement, one whole response', () => {
  it('a client gone during its settlement was charged, not served: the record is undelivered and its retry is served', async () => {
    const path = '/v1/search/delay-gone';
    const { payment } = await chargedWhileAway(path);
    await pause(100);
    const charged = record(path);
    expect(charged).toMatchObject({ state: 'settled' });
    expect(charged!.deliveredAt).toBeUndefined();

    const settles = h.facilitator.calls.settle;
    const retry = await payWith(h.url, path, payment);
    expect(retry.status).toBe(200);
    expect(h.facilitator.calls.settle).toBe(settles); // served without settling again
    expect(decodeHeader(retry.headers['payment-response']).transaction).toBe(charged!.transaction);
  });

  it('two retries of one redeemable payment at once: one is served, the other told to retry', async () => {
    const path = '/v1/search/delay-twice';
    const { payment } = await chargedWhileAway(path);
    const [a, b] = await Promise.all([
      payWith(h.url, path, payment),
      pause(50).then(() => payWith(h.url, path, payment)),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 503]);
    const busy = a.status === 503 ? a : b;
    expect(JSON.parse(busy.body)).toMatchObject({ reason: 'settlement_pending' });
    expect(busy.headers['retry-after']).toBe('2');
    await pause(100);
    // Delivered now: the next retry is refused, not served a third time.
    const after = await payWith(h.url, path, payment);
    expect(after.status).toBe(402);
  });

  it('a new payment of the payer does not take the credit while the credited payment’s own retry is being served', async () => {
    const path = '/v1/search/delay-credit';
    const { account, payment } = await chargedWhileAway(path);
    const owed = record(path)!;
    const fresh = await signFor(h.url, '/v1/search/other', { account });
    const settles = h.facilitator.calls.settle;
    const [retry, other] = await Promise.all([
      payWith(h.url, path, payment),
      pause(100).then(() => payWith(h.url, '/v1/search/other', fresh)),
    ]);
    expect(retry.status).toBe(200);
    expect(other.status).toBe(200);
    const named = [retry, other].map(
      (r) => decodeHeader(r.headers['payment-response']).transaction,
    );
    // Two whole responses, two settlements: never one transaction named twice.
    expect(named[0]).toBe(owed.transaction);
    expect(named[1]).not.toBe(owed.transaction);
    expect(h.facilitator.calls.settle).toBe(settles + 1);
  });
});
