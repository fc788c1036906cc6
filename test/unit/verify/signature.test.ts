import { describe, expect, it } from 'vitest';
import { recoverAddress, type Hex } from 'viem';
import {
  authorizationDigest,
  isPlainSignature,
  loadNativeRecovery,
  recoverSigner,
  type AuthorizationMessage,
  type TokenDomain,
} from '../../../src/verify/signature.js';
import {
  eip3009Domain,
  hashTransferWithAuthorization,
  randomNonce,
  signTransferWithAuthorization,
} from '../../helpers/eip3009.js';
import { testAccount, TEST_PAY_TO } from '../../helpers/payments.js';

const USDC_SEPOLIA = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const DOMAIN: TokenDomain = {
  name: 'USDC',
  version: '2',
  chainId: 84532,
  verifyingContract: USDC_SEPOLIA,
};
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

const native = loadNativeRecovery();
if (native.kind !== 'native') throw new Error(`test host lacks the binding: ${native.detail}`);
const binding = native.binding;

async function signed(account = testAccount(0)) {
  const s = await signTransferWithAuthorization(
    account,
    eip3009Domain(DOMAIN.name, DOMAIN.version, DOMAIN.chainId, DOMAIN.verifyingContract),
    {
      from: account.address,
      to: TEST_PAY_TO,
      value: 1000n,
      validAfter: 0n,
      validBefore: 1_900_000_000n,
      nonce: randomNonce(),
    },
  );
  const m = s.authorization;
  const viemDigest = hashTransferWithAuthorization(
    eip3009Domain(DOMAIN.name, DOMAIN.version, DOMAIN.chainId, DOMAIN.verifyingContract),
    {
      from: m.from,
      to: m.to,
      value: BigInt(m.value),
      validAfter: BigInt(m.validAfter),
      validBefore: BigInt(m.validBefore),
      nonce: m.nonce,
    },
  );
  return { signature: s.signature, message: m as AuthorizationMessage, viemDigest };
}

/** The same signature with v rewritten (27/28 → 0/1 or back). */
function withV(signature: Hex, v: number): Hex {
  return `${signature.slice(0, 130)}${v.toString(16).padStart(2, '0')}` as Hex;
}

describe('authorizationDigest', () => {
  it("is viem's hashTypedData of the same domain and message", async () => {
    for (let i = 0; i < 5; i++) {
      const { message, viemDigest } = await signed(testAccount(i));
      expect(`0x${authorizationDigest(DOMAIN, message).toString('hex')}`).toBe(viemDigest);
    }
  });

  it('differs for another domain (the Base mainnet name, another chain, another token)', async () => {
    const { message } = await signed();
    const base = authorizationDigest(DOMAIN, message).toString('hex');
    for (const d of [
      { ...DOMAIN, name: 'USD Coin' },
      { ...DOMAIN, chainId: 8453 },
      { ...DOMAIN, verifyingContract: TEST_PAY_TO },
    ]) {
      expect(authorizationDigest(d, message).toString('hex')).not.toBe(base);
    }
  });

  it('throws on a field that is not of its Solidity type', async () => {
    const { message } = await signed();
    for (const bad of [
      { value: '-1' },
      { value: '1e3' },
      { validBefore: (1n << 256n).toString() },
      { nonce: '0x1234' },
      { from: '0x12' },
    ]) {
      expect(() => authorizationDigest(DOMAIN, { ...message, ...bad })).toThrow();
    }
  });
});

describe('recoverSigner (native libsecp256k1)', () => {
  it('recovers the signer of a viem-signed authorization', async () => {
    const { signature, message } = await signed(testAccount(3));
    const digest = authorizationDigest(DOMAIN, message);
    expect(recoverSigner(binding, digest, signature)).toBe(testAccount(3).address.toLowerCase());
  });

  it('accepts what viem accepts: v as 27/28 or 0/1, and a high-s twin', async () => {
    const { signature, message, viemDigest } = await signed();
    const digest = authorizationDigest(DOMAIN, message);
    const from = message.from.toLowerCase();
    const v = parseInt(signature.slice(130), 16);
    expect(recoverSigner(binding, digest, withV(signature, v - 27))).toBe(from);
    // (r, n − s, flipped parity) recovers the same key, for viem as for us.
    const s = BigInt(`0x${signature.slice(66, 130)}`);
    const twin =
      `${signature.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
    expect((await recoverAddress({ hash: viemDigest, signature: twin })).toLowerCase()).toBe(from);
    expect(recoverSigner(binding, digest, twin)).toBe(from);
  });

  it('gives another address for another key, another message, or a tampered signature', async () => {
    const { signature, message } = await signed();
    const from = message.from.toLowerCase();
    const other = await signed(testAccount(1));
    expect(recoverSigner(binding, authorizationDigest(DOMAIN, message), other.signature)).not.toBe(
      from,
    );
    const moved = authorizationDigest(DOMAIN, { ...message, value: '1001' });
    expect(recoverSigner(binding, moved, signature)).not.toBe(from);
    const tampered = `${signature.slice(0, 10)}${signature[10] === '0' ? '1' : '0'}${signature.slice(11)}`;
    expect(recoverSigner(binding, authorizationDigest(DOMAIN, message), tampered)).not.toBe(from);
  });

  it('recovers no one from a bad v, r = 0, s ≥ n, or a signature that is not 65 bytes', async () => {
    const { signature, message } = await signed();
    const digest = authorizationDigest(DOMAIN, message);
    for (const v of [2, 26, 29, 37, 255]) {
      expect(recoverSigner(binding, digest, withV(signature, v))).toBeUndefined();
    }
    const zeroR = `0x${'0'.repeat(64)}${signature.slice(66)}`;
    expect(recoverSigner(binding, digest, zeroR)).toBeUndefined();
    const bigS = `${signature.slice(0, 66)}${'f'.repeat(64)}${signature.slice(130)}`;
    expect(recoverSigner(binding, digest, bigS)).toBeUndefined();
    expect(recoverSigner(binding, digest, `${signature}00`)).toBeUndefined();
  });
});

describe('isPlainSignature', () => {
  it('is true for 0x + 130 hex only', () => {
    expect(isPlainSignature(`0x${'ab'.repeat(65)}`)).toBe(true);
    expect(isPlainSignature(`0x${'ab'.repeat(64)}`)).toBe(false);
    expect(isPlainSignature(`0x${'ab'.repeat(66)}`)).toBe(false);
    expect(isPlainSignature(`0x${'zz'.repeat(65)}`)).toBe(false);
    expect(isPlainSignature('ab'.repeat(66))).toBe(false);
  });
});

describe('loadNativeRecovery', () => {
  it('loads the native binding here (CI builds it from source)', () => {
    expect(native.kind).toBe('native');
  });

  it('reports a binding that did not load, instead of falling back to pure JS', () => {
    const missing = loadNativeRecovery(() => {
      throw new Error('No native build was found for platform=linux arch=arm64');
    });
    expect(missing.kind).toBe('missing');
    expect(missing.kind === 'missing' ? missing.detail : '').toContain('No native build was found');
    expect(loadNativeRecovery(() => ({})).kind).toBe('missing');
  });
});
