/**
 * The chain reader on a real chain (anvil with the EIP-3009 token, the built-in facilitator
 * settling real signatures): it finds our transfer by hash or by the nonce's log, and tells a
 * canceled, a spent-elsewhere, an expired and a still-open authorization apart. A facilitator's
 * "nonce already used" never enters into it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Address, Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { createChainReader, type TransferQuery } from '../../../src/chains/transfer-check.js';
import {
  cancelAuthorization,
  freshAddress,
  newPayer,
  paymentV2,
  useDevnet,
} from '../../helpers/devnet.js';

const net = useDevnet({ facilitator: {} });
const reader = () => createChainReader({ rpcUrl: net.devnet.rpcUrl, timeoutMs: 3_000 });

function queryFor(
  payer: Address,
  payTo: Address,
  value: bigint,
  nonce: Hex,
  validBefore = Math.floor(Date.now() / 1000) + 120,
): TransferQuery {
  return { asset: net.devnet.usdc, from: payer, to: payTo, value, nonce, validBefore };
}

async function settle(
  payer: Awaited<ReturnType<typeof newPayer>>,
  payTo: Address,
  value: bigint,
  nonce?: Hex,
) {
  const { request, signed } = await paymentV2(
    net.devnet,
    payer,
    payTo,
    value,
    nonce ? { nonce } : {},
  );
  const answer = await net.facilitator.settle(request);
  if (answer.kind !== 'ok' || !answer.value.success)
    throw new Error(`settle failed: ${JSON.stringify(answer)}`);
  return { hash: answer.value.transaction as Hex, nonce: signed.authorization.nonce };
}

describe('createChainReader', () => {
  it('finds our transfer by its hash, and by the nonce’s AuthorizationUsed log without one', async () => {
    const payer = await newPayer(net.devnet, 10_000n);
    const payTo = freshAddress();
    const { hash, nonce } = await settle(payer, payTo, 4_000n);
    const q = queryFor(payer.address, payTo, 4_000n, nonce);
    expect(await reader().checkTransfer({ ...q, transaction: hash })).toEqual({
      kind: 'landed',
      transaction: hash,
    });
    expect(await reader().checkTransfer(q)).toEqual({ kind: 'landed', transaction: hash });
  });

  it('one reader finds a transfer mined just after its last look (no stale block number)', async () => {
    const same = reader();
    const payTo = freshAddress();
    const first = await newPayer(net.devnet, 10_000n);
    const a = await settle(first, payTo, 1_000n);
    expect(await same.checkTransfer(queryFor(first.address, payTo, 1_000n, a.nonce))).toMatchObject(
      { kind: 'landed' },
    );
    // Mined right after the first look: a head cached for seconds would not reach its log.
    const second = await newPayer(net.devnet, 10_000n);
    const b = await settle(second, payTo, 1_000n);
    expect(await same.checkTransfer(queryFor(second.address, payTo, 1_000n, b.nonce))).toEqual({
      kind: 'landed',
      transaction: b.hash,
    });
  });

  it('a transfer of another value or to another payee is not ours', async () => {
    const payer = await newPayer(net.devnet, 10_000n);
    const payTo = freshAddress();
    const { hash, nonce } = await settle(payer, payTo, 4_000n);
    const wrongValue = await reader().checkTransfer({
      ...queryFor(payer.address, payTo, 5_000n, nonce),
      transaction: hash,
    });
    expect(wrongValue.kind).toBe('failed');
    const wrongPayee = await reader().checkTransfer(
      queryFor(payer.address, freshAddress(), 4_000n, nonce),
    );
    expect(wrongPayee.kind).toBe('failed');
  });

  it('the nonce spent on an authorization to someone else → failed', async () => {
    const payer = await newPayer(net.devnet, 10_000n);
    const ours = freshAddress();
    const { nonce } = await settle(payer, freshAddress(), 3_000n); // same nonce, another payee
    const verdict = await reader().checkTransfer(queryFor(payer.address, ours, 3_000n, nonce));
    expect(verdict.kind).toBe('failed');
    expect(verdict.kind === 'failed' ? verdict.detail : '').toMatch(/without our transfer/);
  });

  it('canceled by the payer → failed, even with a hash we were given', async () => {
    const payer = await newPayer(net.devnet, 10_000n);
    const nonce: Hex = `0x${'5c'.repeat(32)}`;
    await cancelAuthorization(net.devnet, payer.account, nonce);
    const fake = `0x${'ee'.repeat(32)}`;
    const verdict = await reader().checkTransfer({
      ...queryFor(payer.address, freshAddress(), 1_000n, nonce),
      transaction: fake,
    });
    expect(verdict.kind).toBe('failed');
    expect(verdict.kind === 'failed' ? verdict.detail : '').toMatch(/canceled/);
  });

  it('an unused nonce is open before validBefore and failed after it', async () => {
    const payer = await newPayer(net.devnet, 0n);
    const nonce: Hex = `0x${'7a'.repeat(32)}`;
    const future = queryFor(payer.address, freshAddress(), 1_000n, nonce);
    expect((await reader().checkTransfer(future)).kind).toBe('open');
    const past = { ...future, validBefore: Math.floor(Date.now() / 1000) - 5 };
    expect((await reader().checkTransfer(past)).kind).toBe('failed');
  });

  it('an RPC that accepts and never answers → unknown once the whole check’s deadline passes', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const { port } = silent.address() as AddressInfo;
      const slow = createChainReader({ rpcUrl: `http://127.0.0.1:${port}`, deadlineMs: 400 });
      const started = Date.now();
      const q = queryFor(freshAddress(), freshAddress(), 1_000n, `0x${'02'.repeat(32)}`);
      const verdict = await slow.checkTransfer({ ...q, transaction: `0x${'03'.repeat(32)}` });
      expect(verdict).toEqual({ kind: 'unknown', detail: 'chain lookup exceeded 400 ms' });
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('an RPC that does not answer → unknown, never failed or landed', async () => {
    const dead = createChainReader({ rpcUrl: 'http://127.0.0.1:9', timeoutMs: 500 });
    const q = queryFor(freshAddress(), freshAddress(), 1_000n, `0x${'01'.repeat(32)}`);
    expect((await dead.checkTransfer(q)).kind).toBe('unknown');
  });
});
