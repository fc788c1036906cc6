/**
 * Pay the way a client does: read the 402 challenge, sign a real EIP-3009 authorization for the
 * offer (v2 from PAYMENT-REQUIRED, v1 from the JSON body), and build the header. Works against any
 * gateway URL: the loopback harness (gateway-harness.ts) or a stack on a devnet (gateway-stack.ts).
 */
import type { LocalAccount } from 'viem';
import type { PaymentRequirementsV1, PaymentRequirementsV2 } from '../../src/x402/types.js';
import {
  buildV1Payload,
  buildV2Payload,
  encodePaymentHeader,
  testAccount,
  type AuthorizationOverrides,
} from './payments.js';
import { decodeHeader, rawRequest } from './raw-http.js';

export interface PaymentHeader {
  readonly name: 'payment-signature' | 'x-payment';
  readonly value: string;
  /** The signed payload (for tampering or inspection). */
  readonly payload: unknown;
}

/** Ask `path` for its price and sign a payment for it. */
export async function signFor(
  base: string,
  path: string,
  options: {
    version?: 1 | 2;
    account?: LocalAccount;
    method?: string;
    /** v1 payload sent in which header (v2 clients paying the v1 body use X-PAYMENT). */
    header?: 'payment-signature' | 'x-payment';
  } & AuthorizationOverrides = {},
): Promise<PaymentHeader> {
  const { version = 2, account = testAccount(0), method = 'GET', ...overrides } = options;
  const challenge = await rawRequest(base, { method, path });
  if (challenge.status !== 402)
    throw new Error(`expected 402 for ${path}, got ${challenge.status}`);
  if (version === 2) {
    const required = decodeHeader(challenge.headers['payment-required']);
    const accepted = (required.accepts as PaymentRequirementsV2[])[0]!;
    const payload = await buildV2Payload(accepted, {
      account,
      resource: required.resource as { url: string },
      ...overrides,
    });
    return {
      name: options.header ?? 'payment-signature',
      value: encodePaymentHeader(payload),
      payload,
    };
  }
  const body = JSON.parse(challenge.body) as { accepts: PaymentRequirementsV1[] };
  const payload = await buildV1Payload(body.accepts[0]!, { account, ...overrides });
  return { name: options.header ?? 'x-payment', value: encodePaymentHeader(payload), payload };
}

/** Send a paid request. */
export function payWith(
  base: string,
  path: string,
  payment: PaymentHeader,
  options: { method?: string; body?: string } = {},
) {
  return rawRequest(base, {
    method: options.method ?? 'GET',
    path,
    headers: { [payment.name]: payment.value },
    body: options.body,
  });
}
