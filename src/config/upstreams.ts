/**
 * `upstreams:` named upstreams (URL, deadline, pool size, TLS, headers added and removed, health
 * tracking) and the default `upstream:` (a URL, or the name of one of them). Route-level `upstream:`
 * and `rewrite:` are checked in routes.ts against what this resolves.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { httpUrl, positiveInt } from './fields.js';
import { DEFAULTS } from './defaults.js';
import type { UpstreamConfig } from './types.js';
import type { ProblemSink } from './yaml-doc.js';
import { addZodIssues } from './problems.js';

/** The name a URL given as `upstream:` runs under (metrics, readiness, logs). */
export const DEFAULT_UPSTREAM_NAME = 'default';

/** Bounded metric label values: a short name of letters, digits, `_`, `-` and `.`. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * An upstream URL: an http(s) origin plus optional base path; no query or fragment, no credentials
 * (`user:pass@` would be dropped by the forwarder, so every upstream request would go
 * unauthenticated): a credential goes in `upstreams.<name>.headers`.
 */
export const upstreamSchema = httpUrl.superRefine((href, ctx) => {
  if (typeof href !== 'string' || !URL.canParse(href)) return; // reported by httpUrl
  const url = new URL(href);
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      // The password is never echoed: a config problem is printed and logged.
      message:
        `must not carry credentials ("${decodeURIComponent(url.username)}:…@"): the gateway does ` +
        'not send URL credentials upstream, so they would be silently dropped; remove them and ' +
        'send the credential as a header: name the upstream in upstreams and give ' +
        'upstreams.<name>.headers, e.g. { authorization: "Basic ${UPSTREAM_AUTH}" }',
    });
  }
});

/**
 * Headers the gateway sets, drops or vouches for itself: an operator's `headers:` may not spell
 * them (the upstream would believe a forged payer, or the request would be framed wrongly).
 */
const RESERVED = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'x-request-id',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
]);

function reservedWhy(name: string): string | undefined {
  if (RESERVED.has(name)) return 'is set by the gateway itself (or is hop-by-hop)';
  if (name.startsWith('x-payment') || name.startsWith('payment-')) {
    return 'is a payment header: only the gateway tells the upstream who paid';
  }
  return undefined;
}

const headerValue = z
  .string({ invalid_type_error: 'must be a string (quote it, e.g. "${UPSTREAM_KEY}")' })
  .refine((v) => !/[\r\n\0]/.test(v), 'must not contain CR, LF or NUL');

const healthSchema = z
  .object({
    failures: positiveInt('failures in a row').default(DEFAULTS.upstreams.health.failures),
    count5xx: z
      .boolean({ invalid_type_error: 'must be true or false' })
      .default(DEFAULTS.upstreams.health.count5xx),
    minClients: positiveInt('client addresses').default(DEFAULTS.upstreams.health.minClients),
    retryAfterSeconds: positiveInt('seconds').default(DEFAULTS.upstreams.health.retryAfterSeconds),
    path: z
      .string({ invalid_type_error: 'must be a path string, e.g. /healthz' })
      .regex(/^\/[^\s?#]*(\?[^\s#]*)?$/, 'must be a path starting with /, e.g. /healthz')
      .optional(),
    intervalMs: positiveInt('ms').default(DEFAULTS.upstreams.health.intervalMs),
    timeoutMs: positiveInt('ms').default(DEFAULTS.upstreams.health.timeoutMs),
  })
  .strict();

const tlsSchema = z
  .object({
    ca: z.string({ invalid_type_error: 'must be a PEM file path or PEM text' }).min(1).optional(),
    rejectUnauthorized: z
      .boolean({ invalid_type_error: 'must be true or false' })
      .default(DEFAULTS.upstreams.tls.rejectUnauthorized),
    servername: z.string({ invalid_type_error: 'must be a host name' }).min(1).optional(),
  })
  .strict();

/** One entry of `upstreams:` as written (header names not yet lower-cased, CA not yet read). */
export const upstreamEntrySchema = z
  .object({
    url: upstreamSchema,
    timeoutMs: positiveInt('ms').optional(),
    connections: positiveInt('connections').default(DEFAULTS.upstreams.connections),
    tls: tlsSchema.optional(),
    headers: z
      .record(z.string(), headerValue, {
        invalid_type_error:
          'must be a mapping of header name to value, e.g. { x-api-key: "${KEY}" }',
      })
      .default({}),
    removeHeaders: z
      .array(z.string(), { invalid_type_error: 'must be a list of header names, e.g. [cookie]' })
      .default([]),
    health: healthSchema.default({}),
  })
  .strict()
  .superRefine((entry, ctx) => {
    const problem = (path: (string | number)[], message: string): void =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
    if (entry.tls !== undefined && !entry.url.startsWith('https:')) {
      problem(['tls'], 'applies to https upstreams only: the url is http');
    }
    const added = new Set<string>();
    for (const name of Object.keys(entry.headers)) {
      const lower = name.toLowerCase();
      if (!TOKEN.test(name)) problem(['headers', name], 'is not a valid header name');
      else {
        const why = reservedWhy(lower);
        if (why !== undefined) problem(['headers', name], why);
      }
      if (added.has(lower)) problem(['headers', name], 'is given twice (names ignore case)');
      added.add(lower);
    }
    entry.removeHeaders.forEach((name, i) => {
      if (!TOKEN.test(name)) problem(['removeHeaders', i], `"${name}" is not a valid header name`);
      else if (added.has(name.toLowerCase())) {
        problem(
          ['removeHeaders', i],
          `"${name}" is also in headers: an added header already replaces the client's`,
        );
      }
    });
  });

export type UpstreamEntry = z.output<typeof upstreamEntrySchema>;

/** `upstreams:` as written, for the editor schema (json-schema.ts). */
export const upstreamsFileSchema = z.record(z.string(), upstreamEntrySchema);

/**
 * Resolve `upstreams:` (every problem reported under `upstreams.<name>…`): names checked, header
 * names lower-cased, a CA given as a path read (relative to the config's folder). Returns the
 * entries that resolved; undefined when the section is not a mapping.
 */
export function resolveUpstreams(
  sink: ProblemSink,
  raw: unknown,
  baseDir: string,
): Record<string, UpstreamConfig> | undefined {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    sink.add(
      ['upstreams'],
      'must be a mapping of names to { url, … }, e.g. { legacy: { url: … } }',
    );
    return undefined;
  }
  const out: Record<string, UpstreamConfig> = {};
  let ok = true;
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const path = ['upstreams', name];
    if (!NAME.test(name)) {
      sink.add(path, 'an upstream name is 1–64 of A-Z a-z 0-9 _ - . (it labels metrics)');
      ok = false;
      continue;
    }
    const parsed = upstreamEntrySchema.safeParse(value);
    if (!parsed.success) {
      addZodIssues(sink, path, parsed.error);
      ok = false;
      continue;
    }
    const entry = parsed.data;
    let tls: UpstreamConfig['tls'];
    if (entry.tls !== undefined) {
      const ca = entry.tls.ca === undefined ? undefined : readCa(sink, name, entry.tls.ca, baseDir);
      if (ca === null) {
        ok = false;
        continue;
      }
      tls = {
        rejectUnauthorized: entry.tls.rejectUnauthorized,
        ...(ca === undefined ? {} : { ca }),
        ...(entry.tls.servername === undefined ? {} : { servername: entry.tls.servername }),
      };
    }
    const headers: Record<string, string> = {};
    for (const [h, v] of Object.entries(entry.headers)) headers[h.toLowerCase()] = v;
    out[name] = {
      url: entry.url,
      ...(entry.timeoutMs === undefined ? {} : { timeoutMs: entry.timeoutMs }),
      connections: entry.connections,
      ...(tls === undefined ? {} : { tls }),
      headers,
      removeHeaders: entry.removeHeaders.map((h) => h.toLowerCase()),
      health: {
        failures: entry.health.failures,
        count5xx: entry.health.count5xx,
        minClients: entry.health.minClients,
        retryAfterSeconds: entry.health.retryAfterSeconds,
        intervalMs: entry.health.intervalMs,
        timeoutMs: entry.health.timeoutMs,
        ...(entry.health.path === undefined ? {} : { path: entry.health.path }),
      },
    };
  }
  return ok ? out : undefined;
}

/** PEM text as is, else a file read now (a config that names a missing CA fails to load). */
function readCa(sink: ProblemSink, name: string, ca: string, baseDir: string): string | null {
  if (ca.includes('-----BEGIN')) return ca;
  const file = resolve(baseDir, ca);
  try {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('-----BEGIN CERTIFICATE-----')) {
      sink.add(['upstreams', name, 'tls', 'ca'], `${file} holds no PEM certificate`);
      return null;
    }
    return text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    sink.add(['upstreams', name, 'tls', 'ca'], `cannot read ${file}: ${code}`);
    return null;
  }
}

/**
 * `upstream:` is a URL (run as the upstream named `default`) or the name of an entry of
 * `upstreams`. Returns the default upstream's name, or undefined after reporting why not.
 */
export function resolveDefaultUpstream(
  sink: ProblemSink,
  raw: unknown,
  upstreams: Readonly<Record<string, UpstreamConfig>> | undefined,
): { name: string; url: string | undefined } | undefined {
  if (typeof raw === 'string' && !raw.includes('://') && !raw.includes('/')) {
    if (upstreams === undefined) return undefined; // `upstreams` itself is reported
    if (upstreams[raw] !== undefined) return { name: raw, url: undefined };
    const known = Object.keys(upstreams);
    sink.add(
      ['upstream'],
      `"${raw}" is neither an http(s) URL nor the name of an upstream in upstreams` +
        (known.length === 0 ? ' (there are none)' : ` (known: ${known.join(', ')})`),
    );
    return undefined;
  }
  const parsed = upstreamSchema.safeParse(raw);
  if (!parsed.success) {
    addZodIssues(sink, ['upstream'], parsed.error);
    return undefined;
  }
  if (upstreams?.[DEFAULT_UPSTREAM_NAME] !== undefined) {
    sink.add(
      ['upstreams', DEFAULT_UPSTREAM_NAME],
      `is the name a URL in upstream: runs under; rename it, or write upstream: ${DEFAULT_UPSTREAM_NAME}`,
    );
    return undefined;
  }
  return { name: DEFAULT_UPSTREAM_NAME, url: parsed.data };
}
