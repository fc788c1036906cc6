/**
 * The one payment the payment state-machine tests play through (payment.test.ts and its
 * companions): its replay key, the digest of its payload, and the facts the book records for it.
 * The values are placeholders that only have to agree with each other: these tests sign nothing
 * and reach no chain (real payments: payments.ts).
 */
import type { PaymentFacts } from '../../src/ledger/index.js';

/** `chainId:asset:from:nonce`, as the replay guard and the book key a payment. */
export const PAYMENT_KEY = '84532:0xasset:0xfrom:0xnonce';
export const PAYMENT_DIGEST = 'digest-of-this-payload';

/** The record the book keeps for the payment. */
export const PAYMENT_FACTS = {
  key: PAYMENT_KEY,
  digest: PAYMENT_DIGEST,
  x402Version: 2,
  route: 'GET /v1/quote',
  method: 'GET',
  path: '/v1/quote',
  network: 'eip155:84532',
  asset: '0xasset',
  decimals: 6,
  payTo: '0xpayto',
  payer: '0xfrom',
  amount: '1000',
  nonce: '0xnonce',
  validBefore: 2_000_000_000,
  request: '{}',
} as const satisfies PaymentFacts;
