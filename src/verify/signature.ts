/**
 * Who signed an EIP-3009 `TransferWithAuthorization`? The EIP-712 digest, built for this one type
 * (two keccaks over fixed-size words, the domain separator memoised per token), and the signer's
 * address recovered by the native libsecp256k1 binding (npm `secp256k1`): about 75 µs, against
 * about 2 ms for viem's pure-JS recovery (docs/performance.md §4).
 *
 * Only the native binding is used. The package silently falls back to pure-JS `elliptic` when its
 * binding did not build (arm64 without a prebuild, `--ignore-scripts`); loading
 * `secp256k1/bindings` directly makes that fallback visible, so the caller can keep the check off.
 */
import { createRequire } from 'node:module';
import { keccak256 } from 'viem';
import type { ExactEvmAuthorization } from '../x402/index.js';

/** The one call of the binding we use (`secp256k1/lib/index.js`). */
interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
}

/** The native binding, or why it is not there. */
export type NativeRecovery =
  | { readonly kind: 'native'; readonly binding: NativeSecp256k1 }
  | { readonly kind: 'missing'; readonly detail: string };

/**
 * Load the native binding, never the pure-JS fallback. `load` is the module loader (tests pass one
 * that throws, as on a host where the binding did not build).
 */
export function loadNativeRecovery(
  load: () => unknown = () => createRequire(import.meta.url)('secp256k1/bindings'),
): NativeRecovery {
  try {
    const binding = load() as Partial<NativeSecp256k1> | undefined;
    if (typeof binding?.ecdsaRecover !== 'function') {
      return { kind: 'missing', detail: 'secp256k1/bindings has no ecdsaRecover' };
    }
    return { kind: 'native', binding: binding as NativeSecp256k1 };
  } catch (err) {
    return {
      kind: 'missing',
      detail: `the native secp256k1 binding did not load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`,
    };
  }
}

/** The EIP-712 domain of an EIP-3009 token: `extra.name`/`extra.version` of our own offer. */
export interface TokenDomain {
  readonly name: string;
  readonly version: string;
  readonly chainId: number;
  /** The token contract. */
  readonly verifyingContract: string;
}

/** The signed message, exactly as the client sent it (decimal strings, hex nonce). */
export type AuthorizationMessage = ExactEvmAuthorization;

const k = (bytes: Uint8Array): Buffer => Buffer.from(keccak256(bytes, 'bytes'));
const DOMAIN_TYPEHASH = k(
  Buffer.from('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'),
);
const AUTH_TYPEHASH = k(
  Buffer.from(
    'TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)',
  ),
);
const PREFIX = Buffer.from([0x19, 0x01]);
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const UINT = /^[0-9]{1,78}$/;
const UINT256_MAX = (1n << 256n) - 1n;

/** A uint256 as a 32-byte word; throws when the text is not one. */
function word(text: string): Buffer {
  if (!UINT.test(text)) throw new Error(`not a uint256: ${text}`);
  const n = BigInt(text);
  if (n > UINT256_MAX) throw new Error(`not a uint256: ${text}`);
  return Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
}

function addressWord(text: string): Buffer {
  if (!ADDRESS.test(text)) throw new Error(`not an address: ${text}`);
  return Buffer.concat([Buffer.alloc(12), Buffer.from(text.slice(2), 'hex')]);
}

/** Domain separators by token: a handful per gateway (one per offer), so a plain map. */
const separators = new Map<string, Buffer>();
const MAX_SEPARATORS = 1_024;

function domainSeparator(d: TokenDomain): Buffer {
  const key = `${d.chainId}|${d.verifyingContract.toLowerCase()}|${d.name}|${d.version}`;
  let sep = separators.get(key);
  if (sep === undefined) {
    sep = k(
      Buffer.concat([
        DOMAIN_TYPEHASH,
        k(Buffer.from(d.name, 'utf8')),
        k(Buffer.from(d.version, 'utf8')),
        word(String(d.chainId)),
        addressWord(d.verifyingContract),
      ]),
    );
    if (separators.size >= MAX_SEPARATORS) separators.clear();
    separators.set(key, sep);
  }
  return sep;
}

/**
 * The EIP-712 digest of `TransferWithAuthorization` (what viem's `hashTypedData` gives for the
 * same domain and message). Throws when a field is not of its Solidity type.
 */
export function authorizationDigest(domain: TokenDomain, m: AuthorizationMessage): Buffer {
  if (!BYTES32.test(m.nonce)) throw new Error(`not a bytes32 nonce: ${m.nonce}`);
  const struct = k(
    Buffer.concat([
      AUTH_TYPEHASH,
      addressWord(m.from),
      addressWord(m.to),
      word(m.value),
      word(m.validAfter),
      word(m.validBefore),
      Buffer.from(m.nonce.slice(2), 'hex'),
    ]),
  );
  return k(Buffer.concat([PREFIX, domainSeparator(domain), struct]));
}

const SIGNATURE_65 = /^0x[0-9a-fA-F]{130}$/;

/** True for a 65-byte (r ‖ s ‖ v) signature in `0x` hex: the only kind checked locally. */
export function isPlainSignature(signature: string): boolean {
  return SIGNATURE_65.test(signature);
}

/**
 * The lower-case address that signed `digest` with a 65-byte signature, or undefined when it
 * recovers to no key (bad v, r or s out of range, no point): what viem's `recoverAddress` accepts,
 * v ∈ {0, 1, 27, 28}, high s included.
 */
export function recoverSigner(
  binding: NativeSecp256k1,
  digest: Uint8Array,
  signature: string,
): string | undefined {
  if (!isPlainSignature(signature)) return undefined;
  const sig = Buffer.from(signature.slice(2), 'hex');
  const v = sig[64]!;
  const recid = v === 0 || v === 27 ? 0 : v === 1 || v === 28 ? 1 : -1;
  if (recid < 0) return undefined;
  try {
    const pub = binding.ecdsaRecover(sig.subarray(0, 64), recid, digest, false);
    return `0x${keccak256(pub.subarray(1)).slice(-40)}`;
  } catch {
    return undefined;
  }
}
