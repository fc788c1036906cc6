/**
 * What would a local EIP-712 signature pre-check cost per paid request? (issue: keep it off the
 * default hot path unless it is cheap). Measures viem's pure-JS recovery of a real EIP-3009
 * authorization signature. Run: npx tsx bench/micro/signature.ts
 */
import { recoverTypedDataAddress } from 'viem';
import { exampleRequirementV2, signAuthorization, testAccount } from '../../test/helpers/payments.js';
import { eip3009Domain, TRANSFER_WITH_AUTHORIZATION_TYPES } from '../../test/helpers/eip3009.js';

const req = exampleRequirementV2();
const signed = await signAuthorization({ account: testAccount(0), ...req, amount: req.amount });
const a = signed.authorization;
const message = {
  from: a.from as `0x${string}`,
  to: a.to as `0x${string}`,
  value: BigInt(a.value),
  validAfter: BigInt(a.validAfter),
  validBefore: BigInt(a.validBefore),
  nonce: a.nonce as `0x${string}`,
};
const args = {
  domain: eip3009Domain(req.extra.name, req.extra.version, 84532, req.asset),
  types: TRANSFER_WITH_AUTHORIZATION_TYPES,
  primaryType: 'TransferWithAuthorization' as const,
  message,
  signature: signed.signature as `0x${string}`,
};
for (let i = 0; i < 50; i++) await recoverTypedDataAddress(args);
const n = 500;
const start = process.cpuUsage();
for (let i = 0; i < n; i++) {
  const who = await recoverTypedDataAddress(args);
  if (who !== a.from) throw new Error('recovered the wrong signer');
}
const used = process.cpuUsage(start);
console.log(`viem recoverTypedDataAddress (pure JS): ${((used.user + used.system) / n).toFixed(0)} µs CPU per signature`);
