/**
 * The well-known anvil test keys and the guard that keeps them away from real networks.
 *
 * Anvil derives its accounts from a public mnemonic, so anyone can sweep funds sent to these
 * addresses on a real chain. The gateway and the built-in facilitator must therefore refuse one of
 * these keys unless the RPC is provably a local anvil: a loopback URL whose `web3_clientVersion`
 * names anvil (see {@link isDevnetRpc}).
 */
import { privateKeyToAddress } from 'viem/accounts';
import type { Address, Hex } from 'viem';

/** Anvil's default mnemonic (also Hardhat's). */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';

/**
 * Private keys of the first 10 accounts of {@link ANVIL_MNEMONIC} (m/44'/60'/0'/0/i), what anvil
 * funds by default. test/unit/facilitator/devnet-keys.test.ts re-derives them from the mnemonic.
 */
export const ANVIL_PRIVATE_KEYS: readonly Hex[] = Object.freeze([
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
]);

export interface DevnetAccount {
  readonly address: Address;
  readonly privateKey: Hex;
}

/** The anvil accounts with their addresses (computed once, on first use). */
let accountsCache: readonly DevnetAccount[] | undefined;
export function anvilAccounts(): readonly DevnetAccount[] {
  accountsCache ??= Object.freeze(
    ANVIL_PRIVATE_KEYS.map((privateKey) =>
      Object.freeze({ address: privateKeyToAddress(privateKey), privateKey }),
    ),
  );
  return accountsCache;
}

const KEY_INDEX = new Map<string, number>(
  ANVIL_PRIVATE_KEYS.map((k, i) => [k.slice(2).toLowerCase(), i]),
);

/** Index of `privateKey` among the anvil keys (with or without `0x`, any case), or -1. */
export function anvilKeyIndex(privateKey: string): number {
  const hex = privateKey.trim().replace(/^0x/i, '').toLowerCase();
  return KEY_INDEX.get(hex) ?? -1;
}

/** True for one of the well-known anvil test keys. */
export function isWellKnownTestKey(privateKey: string): boolean {
  return anvilKeyIndex(privateKey) >= 0;
}

/** True when the URL's host is loopback: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackRpcUrl(rpcUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(rpcUrl);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m[1] === '127' && m.slice(2).every((o) => Number(o) <= 255);
}

/** Deadline of the `web3_clientVersion` probe. */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * True only for a loopback RPC whose `web3_clientVersion` names anvil. Never throws: an unreachable,
 * slow (> 2 s) or non-anvil endpoint is simply not a devnet.
 */
export async function isDevnetRpc(rpcUrl: string): Promise<boolean> {
  if (!isLoopbackRpcUrl(rpcUrl)) return false;
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'web3_clientVersion', params: [] }),
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      redirect: 'error',
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { result?: unknown };
    return typeof body.result === 'string' && /\banvil\b/i.test(body.result);
  } catch {
    return false;
  }
}

/** Thrown when a well-known test key is pointed at something other than a local anvil. */
export class TestKeyRefusedError extends Error {
  readonly code = 'GW_ERR_TEST_KEY_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'TestKeyRefusedError';
  }
}

/** Host part of an RPC URL, for error messages (paths often carry API keys). */
function describeRpc(rpcUrl: string): string {
  try {
    const u = new URL(rpcUrl);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '<unparsable URL>';
  }
}

/**
 * Refuse a well-known anvil key against a non-devnet RPC. Resolves when the key is not a test key,
 * or when it is and `rpcUrl` is a local anvil; rejects with {@link TestKeyRefusedError} otherwise.
 */
export async function assertTestKeyAllowed(privateKey: string, rpcUrl: string): Promise<void> {
  const index = anvilKeyIndex(privateKey);
  if (index < 0) return;
  if (await isDevnetRpc(rpcUrl)) return;
  throw new TestKeyRefusedError(
    `refusing to use the well-known anvil test key #${index} (public mnemonic "${ANVIL_MNEMONIC}") ` +
      `against ${describeRpc(rpcUrl)}: it is only allowed with a local anvil devnet ` +
      `(loopback URL whose web3_clientVersion names anvil). Use a private key of your own.`,
  );
}
