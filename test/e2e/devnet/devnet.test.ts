import { createWalletClient, http, keccak256, parseSignature, toHex, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import {
  EIP3009_TOKEN_ARTIFACT,
  MULTICALL3_ADDRESS,
  MULTICALL3_ARTIFACT,
  fundAccount,
  isDevnetRpc,
  assertTestKeyAllowed,
} from '../../../src/devnet/devnet.js';
import { BASE_SEPOLIA } from '../../../src/chains/networks.js';
import {
  account,
  authorizationState,
  balanceOf,
  freshAddress,
  publicClient,
  signDevnetAuthorization,
  startTestDevnet,
  useDevnet,
} from '../../helpers/devnet.js';
import { eip3009Domain, hashTransferWithAuthorization } from '../../helpers/eip3009.js';

const net = useDevnet({ chainId: 84532 });

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe('devnet', () => {
  it('runs anvil on loopback with the requested chain id and the anvil accounts', async () => {
    expect(net.devnet.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const pc = publicClient(net.devnet);
    expect(await pc.getChainId()).toBe(84532);
    expect(net.devnet.accounts).toHaveLength(10);
    const rpcAccounts = await createWalletClient({
      transport: http(net.devnet.rpcUrl),
    }).getAddresses();
    // anvil lists the impersonated faucet after its 10 mnemonic accounts.
    expect(rpcAccounts.slice(0, 10).map((a) => a.toLowerCase())).toEqual(
      net.devnet.accounts.map((a) => a.address.toLowerCase()),
    );
    expect(await pc.getBalance({ address: account(net.devnet, 0).address })).toBeGreaterThan(0n);
  });

  it('places the token at the Base Sepolia USDC address with name "USDC", version "2", 6 decimals', async () => {
    expect(net.devnet.usdc).toBe(BASE_SEPOLIA.usdc!.address);
    const pc = publicClient(net.devnet);
    const read = <T>(functionName: string): Promise<T> =>
      pc.readContract({
        address: net.devnet.usdc,
        abi: EIP3009_TOKEN_ARTIFACT.abi,
        functionName: functionName as 'name',
      }) as Promise<T>;
    expect(await read<string>('name')).toBe('USDC');
    expect(await read<string>('version')).toBe('2');
    expect(await read<number>('decimals')).toBe(6);
    const expected = keccak256(
      // abi.encode(typehash, keccak(name), keccak(version), chainId, address)
      ('0x' +
        [
          keccak256(
            toHex(
              'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)',
            ),
          ),
          keccak256(toHex('USDC')),
          keccak256(toHex('2')),
          toHex(84532n, { size: 32 }),
          toHex(BigInt(net.devnet.usdc), { size: 32 }),
        ]
          .map((h) => h.slice(2))
          .join('')) as Hex,
    );
    expect(await read<Hex>('DOMAIN_SEPARATOR')).toBe(expected);
  });

  it('places a Multicall3 at the canonical address that viem multicall uses', async () => {
    const pc = publicClient(net.devnet);
    expect(await pc.getCode({ address: MULTICALL3_ADDRESS })).toBe(
      MULTICALL3_ARTIFACT.deployedBytecode,
    );
    const payer = account(net.devnet, 1).address;
    const results = await pc.multicall({
      contracts: [
        {
          address: net.devnet.usdc,
          abi: EIP3009_TOKEN_ARTIFACT.abi,
          functionName: 'balanceOf',
          args: [payer],
        },
        { address: net.devnet.usdc, abi: EIP3009_TOKEN_ARTIFACT.abi, functionName: 'name' },
        // A failing call: allowFailure keeps the others.
        {
          address: net.devnet.usdc,
          abi: EIP3009_TOKEN_ARTIFACT.abi,
          functionName: 'transfer',
          args: [payer, 10n ** 30n],
        },
      ],
    });
    expect(results[0]).toEqual({ status: 'success', result: 1_000_000n * 10n ** 6n });
    expect(results[1]).toEqual({ status: 'success', result: 'USDC' });
    expect(results[2]?.status).toBe('failure');
  });

  it('mints with fundAccount and reports the balance', async () => {
    const who = freshAddress();
    expect(await balanceOf(net.devnet, who)).toBe(0n);
    await fundAccount(net.devnet, who, 1_234_567n, { eth: 10n ** 18n });
    expect(await balanceOf(net.devnet, who)).toBe(1_234_567n);
    expect(await publicClient(net.devnet).getBalance({ address: who })).toBe(10n ** 18n);
  });

  it('executes a signed transferWithAuthorization (v,r,s and bytes overloads) and refuses a replay', async () => {
    const payer = account(net.devnet, 2);
    const relayer = createWalletClient({
      chain: net.devnet.chain,
      transport: http(net.devnet.rpcUrl),
      account: privateKeyToAccount(account(net.devnet, 3).privateKey),
    });
    const pc = publicClient(net.devnet);
    for (const overload of ['vrs', 'bytes'] as const) {
      const to = freshAddress();
      const signed = await signDevnetAuthorization(net.devnet, payer, { to, value: 1_000n });
      const a = signed.authorization;
      const base = [
        a.from,
        a.to,
        BigInt(a.value),
        BigInt(a.validAfter),
        BigInt(a.validBefore),
        a.nonce,
      ] as const;
      const sig = parseSignature(signed.signature);
      const args =
        overload === 'vrs'
          ? ([...base, Number(sig.v), sig.r, sig.s] as const)
          : ([...base, signed.signature] as const);
      const hash = await relayer.writeContract({
        address: net.devnet.usdc,
        abi: EIP3009_TOKEN_ARTIFACT.abi,
        functionName: 'transferWithAuthorization',
        args: args as never,
      });
      const receipt = await pc.waitForTransactionReceipt({ hash });
      expect(receipt.status).toBe('success');
      expect(await balanceOf(net.devnet, to)).toBe(1_000n);
      expect(await authorizationState(net.devnet, payer.address, a.nonce)).toBe(true);
      await expect(
        pc.simulateContract({
          address: net.devnet.usdc,
          abi: EIP3009_TOKEN_ARTIFACT.abi,
          functionName: 'transferWithAuthorization',
          args: args as never,
          account: relayer.account,
        }),
      ).rejects.toThrow(/authorization is used or canceled/);
    }
  });

  it('refuses a high-s signature, a wrong signer, and times outside the window', async () => {
    const payer = account(net.devnet, 4);
    const pc = publicClient(net.devnet);
    const sim = (
      signed: Awaited<ReturnType<typeof signDevnetAuthorization>>,
      signature: Hex = signed.signature,
    ) => {
      const a = signed.authorization;
      return pc.simulateContract({
        address: net.devnet.usdc,
        abi: EIP3009_TOKEN_ARTIFACT.abi,
        functionName: 'transferWithAuthorization',
        args: [
          a.from,
          a.to,
          BigInt(a.value),
          BigInt(a.validAfter),
          BigInt(a.validBefore),
          a.nonce,
          signature,
        ],
        account: account(net.devnet, 5).address,
      });
    };
    const ok = await signDevnetAuthorization(net.devnet, payer, { to: freshAddress(), value: 5n });
    // Malleated twin: (r, n - s, flipped v) recovers the same signer but must be refused.
    const { r, s, v } = parseSignature(ok.signature);
    const highS = toHex(SECP256K1_N - BigInt(s), { size: 32 });
    const flippedV = Number(v) === 27 ? '1c' : '1b';
    await expect(sim(ok, `${r}${highS.slice(2)}${flippedV}` as Hex)).rejects.toThrow(
      /invalid signature 's' value/,
    );
    const wrongV = `${ok.signature.slice(0, 130)}01` as Hex;
    await expect(sim(ok, wrongV)).rejects.toThrow(/invalid signature 'v' value/);
    const wrongDomain = await signDevnetAuthorization(net.devnet, payer, {
      to: freshAddress(),
      value: 5n,
      domainName: 'USD Coin',
    });
    await expect(sim(wrongDomain)).rejects.toThrow(/invalid signature/);
    const notYet = await signDevnetAuthorization(net.devnet, payer, {
      to: freshAddress(),
      value: 5n,
      validAfterOffset: 3600,
    });
    await expect(sim(notYet)).rejects.toThrow(/not yet valid/);
    const expired = await signDevnetAuthorization(net.devnet, payer, {
      to: freshAddress(),
      value: 5n,
      validBeforeOffset: -10,
    });
    await expect(sim(expired)).rejects.toThrow(/authorization is expired/);
    await expect(sim(ok)).resolves.toBeDefined();
    // The digest the token checks is the standard EIP-712 one.
    const usdc = net.devnet.network.usdc!;
    const digest = hashTransferWithAuthorization(
      eip3009Domain(usdc.name, usdc.version, net.devnet.chainId, net.devnet.usdc),
      {
        ...ok.authorization,
        value: BigInt(ok.authorization.value),
        validAfter: BigInt(ok.authorization.validAfter),
        validBefore: BigInt(ok.authorization.validBefore),
      },
    );
    expect(digest).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it('recognises itself as a devnet and lets the anvil keys through only there', async () => {
    expect(await isDevnetRpc(net.devnet.rpcUrl)).toBe(true);
    expect(await isDevnetRpc(net.devnet.rpcUrl.replace('127.0.0.1', 'localhost'))).toBe(true);
    await expect(
      assertTestKeyAllowed(account(net.devnet, 0).privateKey, net.devnet.rpcUrl),
    ).resolves.toBeUndefined();
  });

  it('starts a Base mainnet devnet with the "USD Coin" token at the Base USDC address', async () => {
    const base = await startTestDevnet({ chainId: 8453 });
    try {
      expect(base.usdc).toBe('0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913');
      const name = await publicClient(base).readContract({
        address: base.usdc,
        abi: EIP3009_TOKEN_ARTIFACT.abi,
        functionName: 'name',
      });
      expect(name).toBe('USD Coin');
      expect(await publicClient(base).getChainId()).toBe(8453);
    } finally {
      await base.stop();
    }
    // Stopped means gone.
    expect(await isDevnetRpc(base.rpcUrl)).toBe(false);
  });
});
