import { decodePaymentHeader } from '../../src/x402/codec.js';
import {
  buildV2Payload,
  exampleRequirementV2,
  testAccount,
  encodePaymentHeader,
} from '../../test/helpers/payments.js';
const p = await buildV2Payload(exampleRequirementV2(), {
  account: testAccount(0),
  resource: { url: 'http://x/y' },
});
const h = encodePaymentHeader(p);
for (let i = 0; i < 20000; i++) decodePaymentHeader(h, 8192);
const t = process.hrtime.bigint();
const N = 100000;
for (let i = 0; i < N; i++) decodePaymentHeader(h, 8192);
console.log('decode µs', Number(process.hrtime.bigint() - t) / N / 1000);
