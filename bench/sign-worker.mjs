// Worker thread for bench/sign.ts: signs `count` EIP-3009 TransferWithAuthorization messages
// (EIP-712, viem signTypedData) with fresh random nonces. Posts back one buffer of records
// [32-byte nonce | 65-byte signature] * count.
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { privateKeyToAccount } from 'viem/accounts';

// `types` is test/helpers/eip3009.ts's TRANSFER_WITH_AUTHORIZATION_TYPES, passed in by sign.ts.
const { privateKey, domain, types, to, value, validAfter, validBefore, count } = workerData;
const account = privateKeyToAccount(privateKey);
const out = Buffer.alloc(count * 97);
for (let i = 0; i < count; i++) {
  const nonceBytes = randomBytes(32);
  const signature = await account.signTypedData({
    domain,
    types,
    primaryType: 'TransferWithAuthorization',
    message: {
      from: account.address,
      to,
      value: BigInt(value),
      validAfter: BigInt(validAfter),
      validBefore: BigInt(validBefore),
      nonce: `0x${nonceBytes.toString('hex')}`,
    },
  });
  nonceBytes.copy(out, i * 97);
  Buffer.from(signature.slice(2), 'hex').copy(out, i * 97 + 32);
}
parentPort.postMessage(out.buffer, [out.buffer]);
