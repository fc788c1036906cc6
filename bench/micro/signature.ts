/**
 * What would a local EIP-712 signature pre-check cost per paid request? (issue: keep it off the
 * default hot path unless it is cheap). Recovers the signer of a real EIP-3009 authorization:
 *   1. viem's recoverTypedDataAddress (pure-JS secp256k1 from @noble/curves);
 *   2. the typed-data hash alone (viem's hashTypedData, pure-JS keccak): the part any method pays;
 *   3. that hash + the native libsecp256k1 binding (npm `secp256k1`, a dependency since the local check)
 *      for the recovery + keccak of the public key for the address;
 *   4. the same with the digest built for this one fixed type (domain separator precomputed per
 *      offer, one 224-byte struct, two keccaks) instead of viem's generic typed-data encoder.
 * Run: node --import tsx bench/micro/signature.ts
 */
import { createRequire } from 'node:module';
import { getAddress, hashTypedData, keccak256, recoverTypedDataAddress } from 'viem';
import {
  exampleRequirementV2,
  signAuthorization,
  testAccount,
} from '../../test/helpers/payments.js';
import { eip3009Domain, TRANSFER_WITH_AUTHORIZATION_TYPES } from '../../test/helpers/eip3009.js';

const req = exampleRequirementV2();
const signed = await signAuthorization({ account: testAccount(0), ...req, amount: req.amount });
const a = signed.authorization;
const message = {
  from: a.from,
  to: a.to,
  value: BigInt(a.value),
  validAfter: BigInt(a.validAfter),
  validBefore: BigInt(a.validBefore),
  nonce: a.nonce,
};
const args = {
  domain: eip3009Domain(req.extra.name, req.extra.version, 84532, req.asset),
  types: TRANSFER_WITH_AUTHORIZATION_TYPES,
  primaryType: 'TransferWithAuthorization' as const,
  message,
  signature: signed.signature,
};

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
}
const native = createRequire(import.meta.url)('secp256k1') as NativeSecp256k1;

/** Signer of the typed data via the native binding; throws on a malformed signature. */
function recoverNative(): string {
  const digest = Buffer.from(hashTypedData(args).slice(2), 'hex');
  const sig = Buffer.from(args.signature.slice(2), 'hex');
  const v = sig[64]!;
  const pub = native.ecdsaRecover(sig.subarray(0, 64), v >= 27 ? v - 27 : v, digest, false);
  const hash = keccak256(pub.subarray(1));
  return getAddress(`0x${hash.slice(-40)}`);
}

// 4: the EIP-712 digest for this one type, by hand: keccak(0x1901 ‖ domainSeparator ‖ structHash).
const word = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const addr = (a: string): Buffer =>
  Buffer.concat([Buffer.alloc(12), Buffer.from(a.slice(2), 'hex')]);
const k = (b: Uint8Array): Buffer => Buffer.from(keccak256(b, 'bytes'));
const DOMAIN_TYPE = k(
  Buffer.from('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'),
);
const AUTH_TYPE = k(
  Buffer.from(
    'TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)',
  ),
);
const d = args.domain;
const domainSeparator = k(
  Buffer.concat([
    DOMAIN_TYPE,
    k(Buffer.from(d.name!)),
    k(Buffer.from(d.version!)),
    word(BigInt(d.chainId!)),
    addr(d.verifyingContract!),
  ]),
);
const PREFIX = Buffer.from([0x19, 0x01]);
function digestFixed(): Buffer {
  const m = args.message;
  const struct = k(
    Buffer.concat([
      AUTH_TYPE,
      addr(m.from),
      addr(m.to),
      word(m.value),
      word(m.validAfter),
      word(m.validBefore),
      Buffer.from(m.nonce.slice(2), 'hex'),
    ]),
  );
  return k(Buffer.concat([PREFIX, domainSeparator, struct]));
}
function recoverNativeFixed(): string {
  const sig = Buffer.from(args.signature.slice(2), 'hex');
  const v = sig[64]!;
  const pub = native.ecdsaRecover(sig.subarray(0, 64), v >= 27 ? v - 27 : v, digestFixed(), false);
  return getAddress(`0x${keccak256(pub.subarray(1)).slice(-40)}`);
}
if (
  `0x${digestFixed().toString('hex')}` !== hashTypedData(args) ||
  recoverNativeFixed() !== a.from
) {
  throw new Error('fixed-type digest differs from hashTypedData');
}

async function measure(name: string, n: number, once: () => unknown): Promise<void> {
  for (let i = 0; i < Math.min(50, n); i++) await once();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await once();
  const used = process.cpuUsage(start);
  console.log(
    `${name.padEnd(52)} ${((used.user + used.system) / n).toFixed(0).padStart(5)} µs CPU per signature`,
  );
}

if (recoverNative() !== a.from || (await recoverTypedDataAddress(args)) !== a.from) {
  throw new Error('recovered the wrong signer');
}
await measure('viem recoverTypedDataAddress (pure JS)', 500, () => recoverTypedDataAddress(args));
await measure('viem hashTypedData only (pure-JS keccak)', 5_000, () => hashTypedData(args));
await measure('hashTypedData + native libsecp256k1 recover', 5_000, recoverNative);
await measure('fixed-type digest only (pure-JS keccak)', 5_000, digestFixed);
await measure('fixed-type digest + native libsecp256k1 recover', 5_000, recoverNativeFixed);
