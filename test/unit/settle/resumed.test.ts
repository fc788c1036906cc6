/**
 * A resumed settlement that the facilitator does not confirm again is decided by the chain: our
 * transfer landed → success; proven impossible → failed; otherwise (or with no RPC) unknown. A
 * fake chain reader stands in for the RPC here; test/unit/chains/transfer-check.test.ts runs the
 * real one on anvil.
 */
import { describe, expect, it } from 'vitest';
import type {
  ChainReader,
  TransferQuery,
  TransferVerdict,
} from '../../../src/chains/transfer-check.js';
import { classifySettlement } from '../../../src/settle/outcome.js';
import { resolveResumed, type ResumedPayment } from '../../../src/settle/resumed.js';

const TX = `0x${'ab'.repeat(32)}` as const;
const NET = 'eip155:84532';
const payment: ResumedPayment = {
  query: {
    asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
    from: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    to: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
    value: 1_000n,
    nonce: `0x${'01'.repeat(32)}`,
    validBefore: 2_000_000_000,
    transaction: TX,
  },
  network: NET,
  payer: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
};

function chainSaying(verdict: TransferVerdict): ChainReader & { asked: TransferQuery[] } {
  const asked: TransferQuery[] = [];
  return {
    asked,
    checkTransfer: (q) => {
      asked.push(q);
      return Promise.resolve(verdict);
    },
    checkSettled: () => Promise.reject(new Error('not asked of a resumed settlement')),
  };
}

const nonceUsed = classifySettlement({
  kind: 'ok',
  status: 200,
  value: {
    success: false,
    errorReason: 'invalid_exact_evm_nonce_already_used',
    transaction: '',
    network: NET,
  },
});
const declined = classifySettlement({
  kind: 'ok',
  status: 200,
  value: { success: false, errorReason: 'insufficient_funds', transaction: '', network: NET },
});
const timedOut = classifySettlement({ kind: 'unavailable', failure: 'timeout', detail: 'late' });

describe('resolveResumed', () => {
  it.each([
    ['nonce already used', nonceUsed],
    ['a listed decline', declined],
    ['another timeout', timedOut],
  ])(
    '%s, our transfer landed → success with the chain’s hash, asked once',
    async (_what, outcome) => {
      const chain = chainSaying({ kind: 'landed', transaction: TX });
      const resolved = await resolveResumed(outcome, payment, chain);
      expect(resolved).toMatchObject({
        kind: 'success',
        response: { success: true, transaction: TX, network: NET, payer: payment.payer },
      });
      expect(chain.asked).toEqual([payment.query]);
    },
  );

  it('nonce already used, the chain proves ours cannot happen → failed, settlement_failed', async () => {
    const resolved = await resolveResumed(
      nonceUsed,
      payment,
      chainSaying({ kind: 'failed', detail: 'the payer canceled the authorization' }),
    );
    expect(resolved).toMatchObject({
      kind: 'failed',
      detail: 'the payer canceled the authorization',
      response: { success: false, errorReason: 'settlement_failed', transaction: '' },
    });
  });

  it.each([
    ['open', { kind: 'open', detail: 'the nonce is unused' }],
    ['unknown', { kind: 'unknown', detail: 'chain lookup failed' }],
  ] as const)(
    'the chain says %s → still unknown, with the earlier hash',
    async (_what, verdict) => {
      const resolved = await resolveResumed(nonceUsed, payment, chainSaying(verdict));
      expect(resolved).toMatchObject({
        kind: 'unknown',
        reason: 'settlement_pending',
        transaction: TX,
      });
    },
  );

  it('no RPC for the network → unknown: a refusal is never read as payment', async () => {
    expect(await resolveResumed(nonceUsed, payment, undefined)).toMatchObject({
      kind: 'unknown',
      transaction: TX,
    });
  });

  it('a success is taken as it is, without asking the chain', async () => {
    const success = classifySettlement({
      kind: 'ok',
      status: 200,
      value: { success: true, transaction: TX, network: NET },
    });
    const chain = chainSaying({ kind: 'failed', detail: 'never asked' });
    expect(await resolveResumed(success, payment, chain)).toBe(success);
    expect(chain.asked).toEqual([]);
  });
});
