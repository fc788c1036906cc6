/**
 * Payments that must not pass, signed for real and checked against a real chain: a payer without
 * funds, underpayment, wrong recipient, expired authorization, wrong network (declared, and signed
 * for another chain). Each is refused with a machine-readable reason, nothing moves on-chain and
 * the upstream never sees the request. In-process and over HTTP.
 */
import { describe, expect, it } from 'vitest';
import type { PaymentRequirementsV1 } from '../../../src/x402/types.js';
import {
  authorizationState,
  balanceOf,
  freshAddress,
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
import { payWith, signFor, type PaymentHeader } from '../../helpers/pay.js';
import { authorizationOf, buildV1Payload, encodePaymentHeader } from '../../helpers/payments.js';
import { rawRequest } from '../../helpers/raw-http.js';

const suite = useGatewaySuite();
const stacks = suite.stacks;

/** A v1 payment for `path` that declares another network than the offer's. */
async function v1OnNetwork(
  url: string,
  path: string,
  payer: Payer,
  network: string,
): Promise<PaymentHeader> {
  const challenge = await rawRequest(url, { path });
  const offer = (JSON.parse(challenge.body) as { accepts: PaymentRequirementsV1[] }).accepts[0]!;
  const payload = await buildV1Payload(offer, { account: payer.account, network });
  return { name: 'x-payment', value: encodePaymentHeader(payload), payload };
}

interface Case {
  readonly name: string;
  /** Token units the payer holds. */
  readonly funds: bigint;
  readonly sign: (url: string, path: string, payer: Payer) => Promise<PaymentHeader>;
  readonly reason: string;
}

const now = (): number => Math.floor(Date.now() / 1000);

const CASES: readonly Case[] = [
  {
    name: 'payer without funds',
    funds: 0n,
    sign: (url, path, payer) => signFor(url, path, { account: payer.account }),
    reason: 'invalid_exact_evm_insufficient_balance',
  },
  {
    name: 'underpayment',
    funds: 10_000n,
    sign: (url, path, payer) =>
      signFor(url, path, { account: payer.account, value: PRICE.item - 1n }),
    reason: 'invalid_exact_evm_payload_authorization_value',
  },
  {
    name: 'wrong recipient',
    funds: 10_000n,
    sign: (url, path, payer) => signFor(url, path, { account: payer.account, to: freshAddress() }),
    reason: 'invalid_exact_evm_payload_recipient_mismatch',
  },
  {
    name: 'expired authorization',
    funds: 10_000n,
    sign: (url, path, payer) =>
      signFor(url, path, {
        account: payer.account,
        validAfter: now() - 600,
        validBefore: now() - 5,
      }),
    reason: 'invalid_exact_evm_payload_authorization_valid_before',
  },
  {
    name: 'wrong network declared (v1 payload for base, offer on base-sepolia)',
    funds: 10_000n,
    sign: (url, path, payer) => v1OnNetwork(url, path, payer, 'base'),
    reason: 'no_matching_requirements',
  },
  {
    name: 'wrong network signed (EIP-712 domain of chain 8453 for a base-sepolia offer)',
    funds: 10_000n,
    sign: (url, path, payer) => signFor(url, path, { account: payer.account, chainId: 8453 }),
    reason: 'invalid_exact_evm_signature',
  },
];

describe.each(MODES)('refused payments move nothing (facilitator %s)', (mode) => {
  const stack = (): Stack => stacks.get(mode)!;

  it.each(CASES)('$name → 402 $reason, no transfer, upstream not called', async (c) => {
    const payer = await newPayer(suite.devnet, c.funds);
    const path = `/v1/items/refused-${CASES.indexOf(c)}`;
    const payment = await c.sign(stack().url, path, payer);
    const transfers = (await transfersTo(suite.devnet, stack().payTo)).length;

    const res = await payWith(stack().url, path, payment);
    expect(res.status).toBe(402);
    expect(JSON.parse(res.body)).toMatchObject({ reason: c.reason });
    expect(upstreamCalls(stack(), path)).toBe(0);
    expect(await balanceOf(suite.devnet, payer.address)).toBe(c.funds);
    expect(await balanceOf(suite.devnet, stack().payTo)).toBe(0n);
    expect(await transfersTo(suite.devnet, stack().payTo)).toHaveLength(transfers);
    const { from, nonce } = authorizationOf(payment.payload);
    expect(await authorizationState(suite.devnet, from, nonce)).toBe(false);
  });

  it('the revenue counter on /metrics equals the transfers to payTo on-chain (none)', async () => {
    expect(await transfersTo(suite.devnet, stack().payTo)).toEqual([]);
    expect(await revenueOnMetrics(stack())).toBe(0n);
  });
});
