import { describe, expect, it } from 'vitest';
import { ANVIL_PRIVATE_KEYS, TestKeyRefusedError } from '../../../src/chains/test-keys.js';
import { createLocalFacilitator } from '../../../src/facilitator/deferred.js';

describe('createLocalFacilitator guards', () => {
  it('refuses a well-known anvil key against a non-devnet RPC before touching it', async () => {
    await expect(
      createLocalFacilitator({
        rpcUrl: 'https://mainnet.base.org',
        privateKey: ANVIL_PRIVATE_KEYS[9]!,
      }),
    ).rejects.toBeInstanceOf(TestKeyRefusedError);
  });

  it('refuses a malformed key', async () => {
    await expect(
      createLocalFacilitator({ rpcUrl: 'http://127.0.0.1:1', privateKey: '0x1234' }),
    ).rejects.toThrow(/64 hex digits/);
  });

  it('fails (does not hang) when the RPC is unreachable', async () => {
    await expect(
      createLocalFacilitator({
        rpcUrl: 'http://127.0.0.1:1',
        privateKey: `0x${'33'.repeat(32)}`,
        rpcTimeoutMs: 500,
      }),
    ).rejects.toThrow();
  });
});
