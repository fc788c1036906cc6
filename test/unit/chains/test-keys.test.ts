import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mnemonicToAccount } from 'viem/accounts';
import { toHex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ANVIL_MNEMONIC,
  ANVIL_PRIVATE_KEYS,
  TestKeyRefusedError,
  anvilAccounts,
  assertTestKeyAllowed,
  isDevnetRpc,
  isLoopbackRpcUrl,
  isWellKnownTestKey,
} from '../../../src/chains/test-keys.js';

/** A loopback JSON-RPC endpoint that claims to be some other client. */
let fakeNode: http.Server;
let fakeUrl: string;
beforeAll(async () => {
  fakeNode = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ jsonrpc: '2.0', id: 1, result: 'Geth/v1.14.0-stable/linux-amd64/go1.22' }),
      );
    });
  });
  await new Promise<void>((r) => fakeNode.listen(0, '127.0.0.1', r));
  fakeUrl = `http://127.0.0.1:${(fakeNode.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => fakeNode.close(() => r())));

describe('anvil test keys', () => {
  it('are the first 10 keys of the public anvil mnemonic', () => {
    ANVIL_PRIVATE_KEYS.forEach((key, i) => {
      const hd = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: i });
      expect(toHex(hd.getHdKey().privateKey!)).toBe(key);
      expect(anvilAccounts()[i]!.address).toBe(hd.address);
    });
  });

  it('are recognised with or without 0x and in any case', () => {
    const k = ANVIL_PRIVATE_KEYS[3]!;
    expect(isWellKnownTestKey(k)).toBe(true);
    expect(isWellKnownTestKey(k.slice(2).toUpperCase())).toBe(true);
    expect(isWellKnownTestKey(`0x${'11'.repeat(32)}`)).toBe(false);
  });
});

describe('devnet detection', () => {
  it('accepts only loopback URLs as candidates', () => {
    for (const u of [
      'http://127.0.0.1:8545',
      'http://127.1.2.3:1',
      'http://localhost:8545',
      'http://[::1]:8545',
    ]) {
      expect(isLoopbackRpcUrl(u), u).toBe(true);
    }
    for (const u of [
      'http://10.0.0.1:8545',
      'https://mainnet.base.org',
      'http://127.0.0.1.evil.com',
      'http://128.0.0.1',
      'ws://127.0.0.1:8545',
      'nonsense',
    ]) {
      expect(isLoopbackRpcUrl(u), u).toBe(false);
    }
  });

  it('is false for a loopback node that is not anvil, and for an unreachable port', async () => {
    expect(await isDevnetRpc(fakeUrl)).toBe(false);
    expect(await isDevnetRpc('http://127.0.0.1:1')).toBe(false);
  });

  it('refuses an anvil key against a remote or non-anvil RPC, with a clear error', async () => {
    const key = ANVIL_PRIVATE_KEYS[0]!;
    await expect(
      assertTestKeyAllowed(key, 'https://mainnet.base.org/v1/secret-api-key'),
    ).rejects.toThrow(TestKeyRefusedError);
    await expect(
      assertTestKeyAllowed(key, 'https://mainnet.base.org/v1/secret-api-key'),
    ).rejects.toThrow(/well-known anvil test key #0.*https:\/\/mainnet\.base\.org(?!\/v1)/);
    await expect(assertTestKeyAllowed(key, fakeUrl)).rejects.toThrow(
      /only allowed with a local anvil devnet/,
    );
  });

  it('lets any other key through without probing', async () => {
    await expect(
      assertTestKeyAllowed(`0x${'22'.repeat(32)}`, 'https://mainnet.base.org'),
    ).resolves.toBeUndefined();
  });
});
