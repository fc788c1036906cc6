/**
 * Input checks of the built-in facilitator, before anything reaches the official scheme code
 * (which casts and would throw TypeErrors on malformed input). Envelope checks use the official
 * zod schemas of @x402/core; the EIP-3009 payload schema is ours (the core schema types it `any`).
 */
import {
  PaymentPayloadV1Schema,
  PaymentPayloadV2Schema,
  PaymentRequirementsV1Schema,
  PaymentRequirementsV2Schema,
} from '@x402/core/schemas';
import { z } from 'zod';
import { isJsonObject } from '../lib/index.js';
import type { FacilitatorRequest } from '../verify/index.js';

/** Wire reasons of the spec (docs/protocol.md §7.5) used by these checks. */
export const REASON = Object.freeze({
  invalidX402Version: 'invalid_x402_version',
  invalidPayload: 'invalid_payload',
  invalidPaymentRequirements: 'invalid_payment_requirements',
  invalidNetwork: 'invalid_network',
  unsupportedScheme: 'unsupported_scheme',
  unexpectedVerifyError: 'unexpected_verify_error',
  unexpectedSettleError: 'unexpected_settle_error',
});

const uintString = z.string().regex(/^\d{1,78}$/, 'decimal integer string');
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, '20-byte hex address');
/** EIP-3009 payload of the `exact` scheme. Signatures up to 4 KiB (ERC-1271/6492 wrappers). */
export const ExactEvmPayloadSchema = z.object({
  signature: z.string().regex(/^0x(?:[0-9a-fA-F]{2}){1,4096}$/, 'hex signature'),
  authorization: z.object({
    from: address,
    to: address,
    value: uintString,
    validAfter: uintString,
    validBefore: uintString,
    nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/, '32-byte hex nonce'),
  }),
});

export type CheckedRequest =
  | { readonly ok: true; readonly request: FacilitatorRequest }
  | { readonly ok: false; readonly reason: string; readonly message: string };

function zodMessage(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Structural problems of a /verify or /settle body that make it no request at all (HTTP 400 in the
 * server): not an object, unknown version, missing payload/requirements objects. Undefined = fine.
 */
export function envelopeProblem(body: unknown): string | undefined {
  if (!isJsonObject(body)) return 'body must be a JSON object';
  if (body['x402Version'] !== 1 && body['x402Version'] !== 2) return 'x402Version must be 1 or 2';
  if (!isJsonObject(body['paymentPayload'])) return 'paymentPayload must be an object';
  if (!isJsonObject(body['paymentRequirements'])) return 'paymentRequirements must be an object';
  return undefined;
}

/** Full check of a request; on failure gives the wire reason to answer with. */
export function checkRequest(body: unknown): CheckedRequest {
  const problem = envelopeProblem(body);
  if (problem !== undefined) {
    const reason =
      isJsonObject(body) && body['x402Version'] !== 1 && body['x402Version'] !== 2
        ? REASON.invalidX402Version
        : REASON.invalidPayload;
    return { ok: false, reason, message: problem };
  }
  const b = body as Record<string, Record<string, unknown>> & { x402Version: 1 | 2 };
  const version = b.x402Version;
  const payload = b['paymentPayload'] as Record<string, unknown>;
  if (payload['x402Version'] !== version) {
    return {
      ok: false,
      reason: REASON.invalidX402Version,
      message: `paymentPayload.x402Version (${String(payload['x402Version'])}) differs from x402Version (${version})`,
    };
  }
  const reqs = (
    version === 1 ? PaymentRequirementsV1Schema : PaymentRequirementsV2Schema
  ).safeParse(b['paymentRequirements']);
  if (!reqs.success) {
    return {
      ok: false,
      reason: REASON.invalidPaymentRequirements,
      message: zodMessage(reqs.error),
    };
  }
  const pp = (version === 1 ? PaymentPayloadV1Schema : PaymentPayloadV2Schema).safeParse(payload);
  if (!pp.success)
    return { ok: false, reason: REASON.invalidPayload, message: zodMessage(pp.error) };
  const inner = ExactEvmPayloadSchema.safeParse(payload['payload']);
  if (!inner.success)
    return { ok: false, reason: REASON.invalidPayload, message: zodMessage(inner.error) };
  // The original objects are passed on untouched (the schemas' transforms are not applied).
  return { ok: true, request: body as FacilitatorRequest };
}

/** `payer` for negative answers, when the payload names one. */
export function payerOf(body: unknown): string | undefined {
  if (!isJsonObject(body) || !isJsonObject(body['paymentPayload'])) return undefined;
  const inner = body['paymentPayload']['payload'];
  if (!isJsonObject(inner) || !isJsonObject(inner['authorization'])) return undefined;
  const from = inner['authorization']['from'];
  return typeof from === 'string' ? from : undefined;
}
