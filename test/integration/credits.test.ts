/**
 * Credits for clients that never resend a signature (the official ones sign a new payment after a
 * failure). A settled payment whose response broke mid-body is owed one response: the payer's next
 * new payment on the same route and price is verified but not settled, served, and its
 * PAYMENT-RESPONSE names the earlier settlement. Once delivered the credit is spent; another route
 * or price, or another payer, never uses it. Real gateway, real SQLite ledger, a loopback
 * facilitator checking EIP-712 signatures, and an upstream that breaks its body.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteBook, type LedgerRecord } from '../../src/ledger/index.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { payWith, signFor } from '../helpers/pay.js';
import { decodeHeader } from '../helpers/raw-http.js';
import { readBook } from '../helpers/read-book.js';
import { generatePrivateKey, privateKeyToAccount, type LocalAccount } from 'viem/accounts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** A payer of its own per number, so no other test's payments mix with its credits. */
const payers = new Map<number, LocalAccount>();
function payer(n: number): LocalAccount {
  let account = payers.get(n);
  if (account === undefined) payers.set(n, (account = privateKeyToAccount(generatePrivateKey())));
  return account;
}

const settle = (): number => h.facilitator.calls.settle;
const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

const book = <T>(read: (b: SqliteBook) => T): T =>
  readBook(join(h.ledgerDir, 'x402-ledger.sqlite'), read);

async function creditsMetric(outcome: string): Promise<number> {
  const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`x402_gateway_credits_total{outcome="${outcome}"}`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A paid request whose upstream body breaks after 32 KiB: settled, never delivered whole. */
async function settleUndelivered(payerNumber: number, id: string): Promise<LedgerRecord> {
  const path = `/v1/search/${id}/break`;
  const payment = await signFor(h.url, path, { account: payer(payerNumber) });
  await payWith(h.url, path, payment).then(
    () => undefined,
    () => undefined, // the body broke: what the client sees does not matter here
  );
  await pause(150); // the attempt row is appended, not awaited
  const record = book((b) => b.list({ states: ['settled'] }).find((r) => r.path === path));
  expect(record).toBeDefined();
  expect(record!.deliveredAt).toBeUndefined();
  return record!;
}

describe('credits', () => {
  it('serves the next new payment of the same payer, route and price through the credit, once', async () => {
    const grantedBefore = await creditsMetric('granted');
    const owed = await settleUndelivered(4, 'c1');
    expect(await creditsMetric('granted')).toBe(grantedBefore + 1);

    // Another price (quote: $0.001), another payer: both settle as usual, the credit untouched.
    const settles = settle();
    const quote = await signFor(h.url, '/v1/quote', { account: payer(4) });
    expect((await payWith(h.url, '/v1/quote', quote)).status).toBe(200);
    const stranger = await signFor(h.url, '/v1/search/c2', { account: payer(5) });
    expect((await payWith(h.url, '/v1/search/c2', stranger)).status).toBe(200);
    expect(settle()).toBe(settles + 2);

    // The payer's new payment on the same route and price: verified, not settled, served.
    const transfers = h.facilitator.transfers.length;
    const upstreamCalls = h.upstream.calls.length;
    const fresh = await signFor(h.url, '/v1/search/c3', { account: payer(4) });
    const served = await payWith(h.url, '/v1/search/c3', fresh);
    expect(served.status).toBe(200);
    expect(settle()).toBe(settles + 2);
    expect(h.facilitator.transfers).toHaveLength(transfers);
    expect(h.upstream.calls.length).toBe(upstreamCalls + 1);
    expect(decodeHeader(served.headers['payment-response'])).toMatchObject({
      success: true,
      transaction: owed.transaction,
    });
    expect(await creditsMetric('consumed')).toBeGreaterThanOrEqual(1);
    await pause(150);
    const after = book((b) => ({
      record: b.get(owed.key)!,
      attempts: b.attempts(owed.key),
      released: b.list({ states: ['released'] }).filter((r) => r.path === '/v1/search/c3'),
    }));
    expect(after.record.deliveredAt).toBeDefined();
    expect(after.record.redemptions).toBe(1);
    expect(after.attempts.map((a) => [a.outcome, a.delivered])).toEqual([
      ['paid', false],
      ['credited', true],
    ]);
    // The new payment is in the book for audit, released: nothing moved.
    expect(after.released).toHaveLength(1);

    // Spent: the next new payment settles.
    const next = await signFor(h.url, '/v1/search/c4', { account: payer(4) });
    const paid = await payWith(h.url, '/v1/search/c4', next);
    expect(paid.status).toBe(200);
    expect(settle()).toBe(settles + 3);
    expect(decodeHeader(paid.headers['payment-response']).transaction).not.toBe(owed.transaction);
  });

  it('keeps the credit when the credited response breaks too, and serves it again', async () => {
    const owed = await settleUndelivered(6, 'd1');
    const settles = settle();
    const again = await signFor(h.url, '/v1/search/d2/break', { account: payer(6) });
    await payWith(h.url, '/v1/search/d2/break', again).then(
      () => undefined,
      () => undefined,
    );
    expect(settle()).toBe(settles); // credited, not settled
    await pause(150);
    const fresh = await signFor(h.url, '/v1/search/d3', { account: payer(6) });
    const served = await payWith(h.url, '/v1/search/d3', fresh);
    expect(served.status).toBe(200);
    expect(settle()).toBe(settles);
    expect(decodeHeader(served.headers['payment-response']).transaction).toBe(owed.transaction);
    await pause(150);
    expect(book((b) => b.get(owed.key)!)).toMatchObject({ redemptions: 2 });
  });

  it('a new payment refused by verification never consumes the credit', async () => {
    const owed = await settleUndelivered(7, 'e1');
    const settles = settle();
    // Signed by another key than the payer it names: verification refuses it.
    const forged = await signFor(h.url, '/v1/search/e2', {
      account: payer(8),
      from: payer(7).address,
    });
    const refused = await payWith(h.url, '/v1/search/e2', forged);
    expect(refused.status).toBe(402);
    expect(settle()).toBe(settles);
    await pause(150);
    expect(book((b) => b.get(owed.key)!)).toMatchObject({ redemptions: 0 });

    // An upstream failure is not paid for, and the credit stays too.
    const failing = await signFor(h.url, '/v1/search/e3', { account: payer(7) });
    h.upstream.failNext(1);
    expect((await payWith(h.url, '/v1/search/e3', failing)).status).toBe(500);
    expect(settle()).toBe(settles);
    await pause(150);
    expect(book((b) => b.get(owed.key)!)).toMatchObject({ redemptions: 0 });

    // The same (released) payment, now that the upstream answers: served through the credit.
    const served = await payWith(h.url, '/v1/search/e3', failing);
    expect(served.status).toBe(200);
    expect(settle()).toBe(settles);
    expect(decodeHeader(served.headers['payment-response']).transaction).toBe(owed.transaction);
  });
});
