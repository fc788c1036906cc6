/**
 * The `facilitator` section: exactly one kind.
 * - `url` (the default): a remote facilitator over HTTP (timeouts, sockets, static headers) →
 *   `kind: 'http'`;
 *   With `cdp: { apiKeyId, apiKeySecret }` (Coinbase's facilitator), each call carries a JWT minted
 *   with that key, and `url` defaults to CDP's x402 base URL;
 * - `local: { rpcUrl, privateKey, … }`: the built-in facilitator, in-process → `kind: 'local'`.
 * `verifyTimeoutMs`, `settleTimeoutMs` and `supportedRefreshMs` apply to both. The key `local`
 * decides the kind; keys of the other kind are reported by name rather than as unknown keys.
 */
import { z } from 'zod';
import type { FacilitatorConfig, HttpFacilitatorConfig, LocalFacilitatorConfig } from './types.js';
import { CdpKeyError, parseCdpSecret } from './cdp-key.js';
import { CDP_FACILITATOR_URL, DEFAULTS } from './defaults.js';
import { httpUrl, positiveInt } from './fields.js';

/** RFC 9110 token: what an HTTP header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const headerValue = z
  .string({ invalid_type_error: 'header values must be strings (quote numbers)' })
  .refine((v) => !/[\r\n\0]/.test(v), 'header value must not contain CR, LF or NUL');

const D = DEFAULTS.facilitator;

const deadlines = {
  verifyTimeoutMs: positiveInt('ms').default(D.verifyTimeoutMs),
  settleTimeoutMs: positiveInt('ms').default(D.settleTimeoutMs),
  supportedRefreshMs: positiveInt('ms').default(D.supportedRefreshMs),
};

/** A CDP API key secret: checked here (format and key), never shown in a message. */
const cdpSecret = z
  .string({
    invalid_type_error: 'must be a quoted string, e.g. "${CDP_API_KEY_SECRET}" (value not shown)',
  })
  .superRefine((text, ctx) => {
    try {
      parseCdpSecret(text);
    } catch (err) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: err instanceof CdpKeyError ? err.message : 'is not a usable key (value not shown)',
      });
    }
  });

const cdpSchema = z
  .object(
    {
      apiKeyId: z
        .string({ invalid_type_error: 'must be a string, e.g. "${CDP_API_KEY_ID}"' })
        .trim()
        .min(1, 'must not be empty'),
      apiKeySecret: cdpSecret,
    },
    { invalid_type_error: 'must be a mapping: { apiKeyId, apiKeySecret }' },
  )
  .strict();

/**
 * What metrics and logs call a facilitator of the list (a bounded label, never its URL, which may
 * carry credentials). Default: its index in the list.
 */
const facilitatorName = z
  .string({ invalid_type_error: 'must be a string, e.g. cdp' })
  .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, - or _ (a metric label)');

export const httpFacilitatorSchema = z
  .object({
    url: httpUrl.default(D.url),
    ...deadlines,
    supportedTimeoutMs: positiveInt('ms').default(D.supportedTimeoutMs),
    maxSockets: positiveInt('sockets').default(D.maxSockets),
    headers: z
      .record(
        z.string().regex(HEADER_NAME, 'header name must be an HTTP token (letters, digits, -)'),
        headerValue,
      )
      .default({}),
    cdp: cdpSchema.optional(),
    name: facilitatorName.optional(),
    breakerFailures: positiveInt('failures').default(D.breakerFailures),
    breakerHalfOpenAfterMs: positiveInt('ms').default(D.breakerHalfOpenAfterMs),
  })
  .strict()
  .transform(({ cdp, ...f }): HttpFacilitatorConfig =>
    cdp === undefined ? { kind: 'http', ...f } : { kind: 'http', ...f, cdp },
  );

/** Keys that only mean something for an HTTP facilitator. */
const HTTP_ONLY_KEYS = [
  'url',
  'supportedTimeoutMs',
  'maxSockets',
  'headers',
  'cdp',
  'name',
  'breakerFailures',
  'breakerHalfOpenAfterMs',
] as const;

/** A private key; the value itself never appears in a message. */
export const privateKey = z
  .string({
    invalid_type_error:
      'must be a quoted "0x…" string, e.g. "${SETTLER_KEY}" (YAML reads an unquoted 0x… as a number)',
  })
  .transform((text, ctx): string => {
    const key = text.trim();
    if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `must be 0x followed by 64 hex digits (got ${key.length} characters; value not shown)`,
      });
      return z.NEVER;
    }
    return key;
  });

export const localFacilitatorSchema = z
  .object({
    local: z
      .object(
        {
          rpcUrl: httpUrl,
          privateKey,
          receiptTimeoutMs: positiveInt('ms').default(D.local.receiptTimeoutMs),
          pollingIntervalMs: positiveInt('ms').default(D.local.pollingIntervalMs),
        },
        { invalid_type_error: 'must be a mapping: { rpcUrl, privateKey, receiptTimeoutMs }' },
      )
      .strict(),
    ...deadlines,
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.local.receiptTimeoutMs >= f.settleTimeoutMs) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['local', 'receiptTimeoutMs'],
        message:
          `must be below facilitator.settleTimeoutMs (${f.settleTimeoutMs} ms), with room for the ` +
          `simulation and broadcast, so that a slow receipt answers settlement_pending with its ` +
          `transaction hash (got ${f.local.receiptTimeoutMs} ms)`,
      });
    }
  })
  .transform((f): LocalFacilitatorConfig => ({
    kind: 'local',
    rpcUrl: f.local.rpcUrl,
    privateKey: f.local.privateKey,
    verifyTimeoutMs: f.verifyTimeoutMs,
    settleTimeoutMs: f.settleTimeoutMs,
    supportedRefreshMs: f.supportedRefreshMs,
    receiptTimeoutMs: f.local.receiptTimeoutMs,
    pollingIntervalMs: f.local.pollingIntervalMs,
  }));

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `local` present → the built-in facilitator (HTTP-only keys are problems); else HTTP. */
export const facilitatorSchema = z.unknown().transform((raw, ctx): FacilitatorConfig => {
  if (!isMapping(raw)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message:
        'must be a mapping with either url (a remote facilitator) or local (the built-in one)',
    });
    return z.NEVER;
  }
  const local = raw.local !== undefined;
  const rest: Record<string, unknown> = { ...raw };
  if (local) {
    for (const key of HTTP_ONLY_KEYS) {
      if (raw[key] === undefined) continue;
      delete rest[key];
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [key],
        message:
          key === 'url'
            ? 'give exactly one of url (a remote facilitator) or local (the built-in one), not both'
            : `applies to a remote facilitator (url) only, not to local`,
      });
    }
  }
  // Coinbase's facilitator: its key implies its address, unless `url` says otherwise.
  if (!local && raw.cdp !== undefined && raw.cdp !== null && raw.url === undefined) {
    rest.url = CDP_FACILITATOR_URL;
  }
  const parsed = (local ? localFacilitatorSchema : httpFacilitatorSchema).safeParse(rest);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue(issue);
    return z.NEVER;
  }
  return parsed.data;
});

/**
 * The `facilitators` section: an ordered list of facilitators, tried in that order (failover,
 * verify/failover.ts). Each entry is what `facilitator` takes; the built-in one (`local`) runs
 * alone, and names are unique. `facilitator: {…}` is the same as a list of that one entry.
 */
export const facilitatorsSchema = z.unknown().transform((raw, ctx): FacilitatorConfig[] => {
  if (!Array.isArray(raw) || raw.length === 0) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message:
        'must be a non-empty list of facilitators ({ url, headers, cdp, … }), tried in order',
    });
    return z.NEVER;
  }
  const out: FacilitatorConfig[] = [];
  let failed = false;
  raw.forEach((entry: unknown, index) => {
    const parsed = facilitatorSchema.safeParse(entry ?? {});
    if (!parsed.success) {
      failed = true;
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ ...issue, path: [index, ...issue.path] });
      }
      return;
    }
    out.push(parsed.data);
  });
  raw.forEach((entry: unknown, index) => {
    if (raw.length > 1 && isMapping(entry) && entry.local !== undefined) {
      failed = true;
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [index, 'local'],
        message:
          'the built-in facilitator (local) runs alone: it cannot be part of a failover list ' +
          '(use facilitator: { local: … } alone, or remote facilitators only)',
      });
    }
  });
  if (failed) return z.NEVER;
  const seen = new Map<string, number>();
  out.forEach((f, index) => {
    const name = f.kind === 'http' ? f.name : undefined;
    if (name === undefined) return;
    const first = seen.get(name);
    if (first !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [index, 'name'],
        message: `"${name}" is already the name of entry ${first}: names must be unique`,
      });
    }
    seen.set(name, index);
  });
  return out;
});

/** A facilitator's label in metrics and logs: its configured name, else its index in the list. */
export function facilitatorLabel(f: FacilitatorConfig, index: number): string {
  return f.kind === 'http' && f.name !== undefined ? f.name : String(index);
}
