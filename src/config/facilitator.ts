/**
 * The `facilitator` section. Today there is one kind, an HTTP facilitator (`url` + timeouts); its
 * output carries `kind: 'http'`. To add another kind (e.g. a built-in `local:` facilitator), give
 * it its own strict schema with a distinguishing key and combine both here with `z.union`, mapping
 * each to its `kind`; nothing else in the loader needs to change.
 */
import { z } from 'zod';
import type { HttpFacilitatorConfig } from './types.js';
import { DEFAULTS } from './defaults.js';
import { httpUrl, positiveInt } from './fields.js';

/** RFC 9110 token: what an HTTP header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headerValue = z
  .string({ invalid_type_error: 'header values must be strings (quote numbers)' })
  .refine((v) => !/[\r\n\0]/.test(v), 'header value must not contain CR, LF or NUL');

const D = DEFAULTS.facilitator;

export const httpFacilitatorSchema = z
  .object({
    url: httpUrl.default(D.url),
    verifyTimeoutMs: positiveInt('ms').default(D.verifyTimeoutMs),
    settleTimeoutMs: positiveInt('ms').default(D.settleTimeoutMs),
    supportedTimeoutMs: positiveInt('ms').default(D.supportedTimeoutMs),
    maxSockets: positiveInt('sockets').default(D.maxSockets),
    headers: z
      .record(
        z.string().regex(HEADER_NAME, 'header name must be an HTTP token (letters, digits, -)'),
        headerValue,
      )
      .default({}),
  })
  .strict()
  .transform((f): HttpFacilitatorConfig => ({ kind: 'http', ...f }));

export const facilitatorSchema = httpFacilitatorSchema;
