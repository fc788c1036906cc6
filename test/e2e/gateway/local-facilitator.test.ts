/**
 * `facilitator.local` specifics, on a devnet that does not mine by itself: a receipt slower than
 * receiptTimeoutMs (below settleTimeoutMs) answers 503 settlement_pending with the transaction hash
 * and keeps the claim; once the block is mined the same payment is served, transferred once. A
 * public test key aimed at a real chain stops start-up with a clear error.
 */
import type { Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../../src/config/index.js';
import { ANVIL_PRIVATE_KEYS } from '../../../src/devnet/devnet.js';
import { GatewayStartError, startGateway } from '../../../src/server.js';
import {
  authorizationState,
  balanceOf,
  newPayer,
  transfersTo,
  mineBlocks,
} from '../../helpers/devnet.js';
import {
  PRICE,
  revenueOnMetrics,
  upstreamCalls,
  useGatewaySuite,
  type Stack,
} from '../../helpers/gateway-stack.js';
import { payWith, signFor } from '../../helpers/pay.js';
import { authorizationOf } from '../../helpers/payments.js';
import { decodeHeader } from '../../helpers/raw-http.js';

const suite = useGatewaySuite({
  modes: ['local'],
  devnet: { mining: false },
  stack: { receiptTimeoutMs: 300, settleTimeoutMs: 3_000 },
});
const stack = (): Stack => suite.stack('local');

describe('facilitator.local', () => {
  it('a receipt slower than receiptTimeoutMs → 503 settlement_pending with the hash; the same payment then settles once', async () => {
    const payer = await newPayer(suite.devnet, 10_000n);
    const path = '/v1/items/slow-block';
    const payment = await signFor(stack().url, path, { account: payer.account });

    const started = Date.now();
    const pending = await payWith(stack().url, path, payment);
    expect(Date.now() - started).toBeLessThan(3_000); // within settleTimeoutMs (two receipt waits)
    expect(pending.status).toBe(503);
    expect(JSON.parse(pending.body)).toMatchObject({ reason: 'settlement_pending' });
    const header = decodeHeader(pending.headers['payment-response']);
    expect(header).toMatchObject({ success: false, errorReason: 'settlement_pending' });
    const hash = header.transaction as Hex;
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await balanceOf(suite.devnet, stack().payTo)).toBe(0n); // broadcast, not mined

    await mineBlocks(suite.devnet);
    const served = await payWith(stack().url, path, payment);
    expect(served.status).toBe(200);
    expect(decodeHeader(served.headers['payment-response'])).toMatchObject({
      success: true,
      transaction: hash,
    });
    expect(upstreamCalls(stack(), path)).toBe(2); // the body was withheld the first time
    expect(await transfersTo(suite.devnet, stack().payTo)).toEqual([
      { from: payer.address, to: stack().payTo, value: PRICE.item, transactionHash: hash },
    ]);
    expect(await balanceOf(suite.devnet, payer.address)).toBe(10_000n - PRICE.item);
    expect(
      await authorizationState(suite.devnet, payer.address, authorizationOf(payment.payload).nonce),
    ).toBe(true);
    expect(await revenueOnMetrics(stack())).toBe(PRICE.item);
  });

  it('refuses to start with a public anvil key on an RPC that is not a local anvil', async () => {
    const loaded = loadConfigText(
      `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0 }
facilitator:
  local:
    rpcUrl: https://sepolia.base.org
    privateKey: "${ANVIL_PRIVATE_KEYS[9]}"
upstream: http://127.0.0.1:9
log: { level: silent }
routes:
  "GET /v1/health": 0
`,
      {},
      'refused.yaml',
    );
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const start = startGateway(loaded.config);
    await expect(start).rejects.toBeInstanceOf(GatewayStartError);
    await expect(start).rejects.toThrow(
      /^facilitator\.local: cannot start the built-in facilitator: refusing to use the well-known anvil test key #9 .* against https:\/\/sepolia\.base\.org/,
    );
  });
});
