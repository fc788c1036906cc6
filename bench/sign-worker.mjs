// Worker thread for bench/sign.ts: signs `count` EIP-3009 TransferWithAuthorization messages
// (EIP-712, viem signTypedData) with fresh random nonces. Posts back one buffer of records
// [32-byte nonce | 65-byte signature] * count.
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { privateKeyToAccount } from 'viem/accounts';

const TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
};

const { privateKey, domain, to, value, validAfter, validBefore, count } = workerData;
const account = privateKeyToAccount(privateKey);
const out = Buffer.alloc(count * 97);
for (let i = 0; i < count; i++) {
  const nonceBytes = randomBytes(32);
  const signature = await account.signTypedData({
    domain,
    types: TYPES,
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
