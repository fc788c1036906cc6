/**
 * A small book of record for the `ledger` commands' tests, the same on SQLite and on Postgres:
 * seven records in every state a report groups (an amount above 2^53, an 18-decimals token, a
 * detail with quotes, a comma and a line break), written as the book's own ops (`bookOps`: a
 * SqliteBook writes them in one batch; `applyOps`: any store through its API).
 *
 * A: settled + delivered (day 1); B: settled, never delivered (day 1, 2^53 + 1); C: confirmed +
 * delivered (day 2); D: unknown, other network (day 2); E: settling (an hour before `now`); F:
 * released (day 1); G: settled + delivered, an 18-decimals token (day 2).
 */
import type { LedgerStore, PaymentFacts, WriteOp } from '../../src/ledger/index.js';

export const USDC = '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913';
export const USDC_SEPOLIA = '0x036cbd53842c5426634e7929541ec2318f3dcf7e';
export const DAI = '0x50c5725949a6f0c72e6c4a641f24049a917db0cb';
export const P1 = '0x1111111111111111111111111111111111111111';
export const P2 = '0x2222222222222222222222222222222222222222';
export const QUOTE = 'GET /v1/quote';
export const ITEMS = 'GET /v1/items/:id';
export const DAY1 = Date.UTC(2025, 0, 30, 10, 0, 0);
export const DAY2 = Date.UTC(2025, 0, 31, 8, 0, 0);
/** 2^53 + 1: a float would print it as ...992. */
export const BIG = '9007199254740993';

export function facts(
  n: number,
  over: Partial<PaymentFacts> & Pick<PaymentFacts, 'payer' | 'amount' | 'route'>,
): PaymentFacts {
  const network = over.network ?? 'eip155:8453';
  const asset = over.asset ?? USDC;
  const nonce = `0x${n.toString(16).padStart(64, '0')}`;
  return {
    key: `${network.split(':')[1]}:${asset}:${over.payer}:${nonce}`,
    digest: `digest-${n}`,
    x402Version: 2,
    method: 'GET',
    path: '/v1/quote',
    network,
    asset,
    decimals: 6,
    payTo: '0x9999999999999999999999999999999999999999',
    nonce,
    validBefore: 1_900_000_000,
    request: JSON.stringify({ paymentPayload: { n }, note: 'a "quoted", comma' }),
    ...over,
  };
}

export const A = facts(1, {
  route: QUOTE,
  payer: P1,
  amount: '1500000',
  path: '/v1/quote?sym=ETH,BTC&q="x"',
});
export const B = facts(2, { route: ITEMS, payer: P2, amount: BIG, path: '/v1/items/7' });
export const C = facts(3, { route: QUOTE, payer: P1, amount: '2500000' });
export const D = facts(4, {
  route: QUOTE,
  payer: P2,
  amount: '1000000',
  network: 'eip155:84532',
  asset: USDC_SEPOLIA,
});
export const E = facts(5, { route: ITEMS, payer: P1, amount: '700' });
export const F = facts(6, { route: QUOTE, payer: P1, amount: '1000' });
export const G = facts(7, {
  route: QUOTE,
  payer: P1,
  amount: '1230000000000000000',
  asset: DAI,
  decimals: 18,
});

export const delivered = (f: PaymentFacts, at: number): WriteOp => ({
  op: 'attempt',
  attempt: {
    key: f.key,
    requestId: `req-${f.digest}`,
    outcome: 'paid',
    status: 200,
    served: true,
    delivered: true,
    startedAt: at,
    endedAt: at,
  },
});

export const settle = (f: PaymentFacts, at: number, tx: string): WriteOp => ({
  op: 'change',
  key: f.key,
  from: ['settling'],
  change: { state: 'settled', transaction: tx, at },
});

/**
 * A: settled + delivered (day 1); B: settled, never delivered (day 1, 2^53 + 1); C: confirmed +
 * delivered (day 2); D: unknown, other network (day 2); E: settling (an hour ago); F: released
 * (day 1); G: settled + delivered, an 18-decimals token (day 2).
 */
export function bookOps(now = Date.now()): WriteOp[] {
  return [
    { op: 'begin', facts: A, at: DAY1 },
    settle(A, DAY1 + 1_000, '0xaaa'),
    delivered(A, DAY1 + 1_200),
    { op: 'begin', facts: B, at: DAY1 + 3_600_000 },
    settle(B, DAY1 + 3_601_000, '0xbbb'),
    { op: 'begin', facts: C, at: DAY2 },
    settle(C, DAY2 + 1_000, '0xccc'),
    delivered(C, DAY2 + 1_100),
    {
      op: 'change',
      key: C.key,
      from: ['settled'],
      change: { state: 'confirmed', at: DAY2 + 20_000 },
    },
    { op: 'begin', facts: D, at: DAY2 + 60_000 },
    {
      op: 'change',
      key: D.key,
      from: ['settling'],
      change: {
        state: 'unknown',
        detail: 'facilitator said:\n"timeout", retry',
        at: DAY2 + 61_000,
      },
    },
    { op: 'begin', facts: E, at: now - 3_600_000 },
    { op: 'audit', facts: F, state: 'released', at: DAY1 + 120_000 },
    { op: 'begin', facts: G, at: DAY2 + 120_000 },
    settle(G, DAY2 + 121_000, '0xggg'),
    delivered(G, DAY2 + 121_500),
  ];
}

/**
 * The same writes through a store's API, one after another (what a gateway's requests would
 * write): a Postgres book then holds the records a SQLite file given `bookOps` to write holds.
 */
export async function applyOps(store: LedgerStore, ops: readonly WriteOp[]): Promise<void> {
  for (const op of ops) {
    switch (op.op) {
      case 'begin':
        await store.begin(op.facts, op.at);
        break;
      case 'change':
        await store.change(op.key, op.from, op.change, op.by, op.note);
        break;
      case 'audit':
        store.audit(op.facts, op.state, op.at);
        break;
      case 'attempt':
        store.attempt(op.attempt);
        break;
      case 'redeem':
        await store.redeem(op.key, op.max, op.at);
        break;
    }
  }
  await store.flushed?.();
}
