/**
 * The YAML config's structure as strict zod schemas (unknown keys are errors), and every default in
 * one DEFAULTS object. Field-level rules (URLs, host:port, addresses, networks) live here; rules
 * that need several sections at once (prices per asset, timeouts vs maxTimeoutSeconds, route ties)
 * live in routes.ts.
 */
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { HostPort } from './types.js';
import { address, cidr, hostPort, httpUrl, network, positiveInt, share } from './fields.js';
import {
  facilitatorSchema,
  facilitatorsSchema,
  httpFacilitatorSchema,
  localFacilitatorSchema,
} from './facilitator.js';
import { DEFAULTS } from './defaults.js';

const WORKERS_MESSAGE = 'must be a positive integer (workers) or "auto" (one per CPU)';
import { upstreamSchema, upstreamsFileSchema } from './upstreams.js';
import { findNetwork, NETWORKS } from '../chains/index.js';

export { DEFAULTS };

const limitsSchema = z
  .object({
    maxHeaderBytes: positiveInt('bytes').default(DEFAULTS.server.limits.maxHeaderBytes),
    maxBodyBytes: positiveInt('bytes').default(DEFAULTS.server.limits.maxBodyBytes),
    refusedBodyBytes: positiveInt('bytes').default(DEFAULTS.server.limits.refusedBodyBytes),
    maxPaymentHeaderBytes: positiveInt('bytes').default(
      DEFAULTS.server.limits.maxPaymentHeaderBytes,
    ),
    headersTimeoutMs: positiveInt('ms').default(DEFAULTS.server.limits.headersTimeoutMs),
    requestTimeoutMs: positiveInt('ms').default(DEFAULTS.server.limits.requestTimeoutMs),
    keepAliveTimeoutMs: positiveInt('ms').default(DEFAULTS.server.limits.keepAliveTimeoutMs),
    maxInFlight: positiveInt('requests').default(DEFAULTS.server.limits.maxInFlight),
    bodyIdleTimeoutMs: positiveInt('ms').default(DEFAULTS.server.limits.bodyIdleTimeoutMs),
    writeIdleTimeoutMs: positiveInt('ms').default(DEFAULTS.server.limits.writeIdleTimeoutMs),
    upstreamBodyIdleTimeoutMs: positiveInt('ms').default(
      DEFAULTS.server.limits.upstreamBodyIdleTimeoutMs,
    ),
    maxClientShare: share.default(DEFAULTS.server.limits.maxClientShare),
  })
  .strict();

export const serverSchema = z
  .object({
    listen: hostPort.default(DEFAULTS.server.listen),
    admin: hostPort.default(DEFAULTS.server.admin),
    publicUrl: httpUrl.nullable().default(DEFAULTS.server.publicUrl),
    trustProxy: z.boolean().default(DEFAULTS.server.trustProxy),
    trustedProxies: z
      .array(cidr, { invalid_type_error: 'must be a list of CIDRs, e.g. [10.0.0.0/8]' })
      .default([...DEFAULTS.server.trustedProxies]),
    shutdownTimeoutMs: positiveInt('ms').default(DEFAULTS.server.shutdownTimeoutMs),
    dropUnderscoreHeaders: z.boolean().default(DEFAULTS.server.dropUnderscoreHeaders),
    workers: z
      .union([z.literal('auto'), z.number()], { errorMap: () => ({ message: WORKERS_MESSAGE }) })
      .refine((w) => w === 'auto' || (Number.isSafeInteger(w) && w > 0), WORKERS_MESSAGE)
      .default(DEFAULTS.server.workers)
      .transform((w) => (w === 'auto' ? availableParallelism() : w)),
    instance: z
      .string({ invalid_type_error: 'must be a string naming this instance (e.g. gw-1)' })
      .trim()
      .min(1, 'must not be empty (leave it out for HOSTNAME:PORT)')
      .max(200, 'must be at most 200 characters')
      .nullable()
      .default(DEFAULTS.server.instance),
    limits: limitsSchema.default({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (sameEndpoint(s.listen, s.admin)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['admin'],
        message: 'must differ from server.listen: metrics must not share the paid listener',
      });
    }
    // Listed proxies are only believed with trustProxy on: silently ignoring the list would hide
    // that X-Forwarded-For is not read at all.
    if (s.trustedProxies.length > 0 && !s.trustProxy) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['trustedProxies'],
        message: 'has no effect without server.trustProxy: true',
      });
    }
  });

function sameEndpoint(a: HostPort, b: HostPort): boolean {
  return a.port !== 0 && a.port === b.port && a.host === b.host;
}

export { facilitatorSchema, facilitatorsSchema };

/**
 * An explicit asset: every field is needed to sign EIP-712 (name/version are the token's domain).
 */
export const assetSchema = z
  .object({
    address: address,
    decimals: z
      .number({ invalid_type_error: 'must be an integer from 0 to 36' })
      .int('must be an integer from 0 to 36')
      .min(0, 'must be an integer from 0 to 36')
      .max(36, 'must be an integer from 0 to 36'),
    name: z.string().min(1, "must not be empty (the token's EIP-712 domain name)"),
    version: z.string().min(1, "must not be empty (the token's EIP-712 domain version)"),
  })
  .strict();

export const paymentSchema = z
  .object({
    network: network.default(DEFAULTS.payment.network),
    payTo: address.optional(),
    maxTimeoutSeconds: positiveInt('seconds').optional(),
    asset: assetSchema.optional(),
  })
  .strict();

export const verifyCacheSchema = z
  .object({
    maxEntries: positiveInt('entries').default(DEFAULTS.verifyCache.maxEntries),
    negativeTtlMs: positiveInt('ms').default(DEFAULTS.verifyCache.negativeTtlMs),
  })
  .strict();

const ratio = z
  .number({ invalid_type_error: 'must be a number from 0 up to (not including) 1, e.g. 0.5' })
  .gte(0, 'must be a number from 0 up to (not including) 1, e.g. 0.5')
  .lt(1, 'must be a number from 0 up to (not including) 1, e.g. 0.5');

export const signatureCheckSchema = z
  .object({
    enabled: z
      .boolean({ invalid_type_error: 'must be true or false' })
      .default(DEFAULTS.signatureCheck.enabled),
    failureRatio: ratio.default(DEFAULTS.signatureCheck.failureRatio),
    windowSeconds: positiveInt('seconds').default(DEFAULTS.signatureCheck.windowSeconds),
    minVerdicts: positiveInt('verdicts').default(DEFAULTS.signatureCheck.minVerdicts),
    maxClients: positiveInt('clients').default(DEFAULTS.signatureCheck.maxClients),
    codeCacheEntries: positiveInt('entries').default(DEFAULTS.signatureCheck.codeCacheEntries),
    codeCacheTtlSeconds: positiveInt('seconds').default(
      DEFAULTS.signatureCheck.codeCacheTtlSeconds,
    ),
  })
  .strict();

export const replaySchema = z
  .object({
    marginSeconds: positiveInt('seconds').default(DEFAULTS.replay.marginSeconds),
    maxEntries: positiveInt('entries').default(DEFAULTS.replay.maxEntries),
  })
  .strict();

/** A Redis URL: redis://, rediss:// (TLS) or unix:///path (a socket). */
const redisUrl = z
  .string({ invalid_type_error: 'must be a redis:// URL string' })
  .superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${text}" is not a valid URL` });
      return;
    }
    const fail = (message: string): void => ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    if (url.protocol === 'unix:') {
      if (!url.pathname.startsWith('/') || url.host !== '') {
        fail('a socket must be an absolute path: unix:///path/to/redis.sock');
      }
    } else if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      fail(`must be a redis://, rediss:// or unix:// URL, got "${url.protocol}"`);
    } else if (url.hostname === '') {
      fail('must name a host, e.g. redis://127.0.0.1:6379');
    } else if (url.search !== '' || url.hash !== '') {
      fail('must not have a query or fragment');
    }
  });

export const storeSchema = z
  .object({
    redis: z
      .object({
        url: redisUrl,
        keyPrefix: z.string().default(DEFAULTS.store.keyPrefix),
        commandTimeoutMs: positiveInt('ms').default(DEFAULTS.store.commandTimeoutMs),
      })
      .strict()
      .nullable()
      .default(DEFAULTS.store.redis),
  })
  .strict();

export const logSchema = z
  .object({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default(DEFAULTS.log.level),
  })
  .strict();

export const rateLimitsSchema = z
  .object({
    enabled: z
      .boolean({ invalid_type_error: 'must be true or false' })
      .default(DEFAULTS.rateLimits.enabled),
    challengesPerSecond: z
      .object({
        perClient: positiveInt('challenges per second').default(
          DEFAULTS.rateLimits.challengesPerSecond.perClient,
        ),
        burst: positiveInt('challenges').default(DEFAULTS.rateLimits.challengesPerSecond.burst),
      })
      .strict()
      .default({}),
    failuresPerMinute: z
      .object({
        perClient: positiveInt('failures per minute').default(
          DEFAULTS.rateLimits.failuresPerMinute.perClient,
        ),
        perPayer: positiveInt('failures per minute').default(
          DEFAULTS.rateLimits.failuresPerMinute.perPayer,
        ),
      })
      .strict()
      .default({}),
    maxTrackedAddresses: positiveInt('addresses').default(DEFAULTS.rateLimits.maxTrackedAddresses),
    syncIntervalMs: positiveInt('ms').default(DEFAULTS.rateLimits.syncIntervalMs),
  })
  .strict();

export const unpricedSchema = z.enum(['forward', 'deny']).default(DEFAULTS.unpriced);

/**
 * `rpcUrls`: a JSON-RPC URL per network (v1 name or CAIP-2 id), resolved to CAIP-2 keys. The chain
 * is read to settle what a facilitator's answer left unknown; without one, such a payment stays
 * `settlement_pending`.
 */
export const rpcUrlsSchema = z
  .record(z.string(), z.unknown(), {
    invalid_type_error:
      'must be a mapping of network to JSON-RPC URL, e.g. { base: "${BASE_RPC_URL}" }',
  })
  .default({})
  // Keys and URLs are checked in one pass so every bad entry is reported, not just the first kind.
  .transform((urls, ctx): Readonly<Record<string, string>> => {
    const byCaip2: Record<string, string> = {};
    const problem = (name: string, message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [name], message });
    for (const [name, value] of Object.entries(urls)) {
      const url = httpUrl.safeParse(value);
      if (!url.success) problem(name, url.error.issues[0]?.message ?? 'must be an http(s) URL');
      const info = findNetwork(name);
      if (info === undefined) problem(name, `unknown network "${name}"`);
      else if (byCaip2[info.caip2] !== undefined) {
        problem(name, `names the same network as another key (${info.caip2})`);
      } else if (url.success) byCaip2[info.caip2] = url.data;
    }
    return byCaip2;
  });

/**
 * A Postgres URL (libpq's form: `postgres://user:password@host:port/database?sslmode=…`). The
 * password is best a `${NAME}` reference: the loader interpolates before validation.
 */
const postgresUrl = z
  .string({ invalid_type_error: 'must be a postgres:// URL string' })
  .superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'is not a valid URL (postgres://user:password@host:port/database)',
      });
      return;
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `must be a postgres:// or postgresql:// URL, got "${url.protocol}"`,
      });
    } else if (url.pathname.length <= 1) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'must name a database: postgres://user:password@host:port/database',
      });
    }
  });

/**
 * `ledger`: `false`, or the book of record: a SQLite file (the default) or a Postgres database
 * shared by a fleet, exactly one of them. The SQLite path is resolved against the config file's
 * folder by the loader (it knows where the file is), which also applies the default file when
 * neither is named.
 */
export const ledgerSchema = z.union(
  [
    z.literal(false),
    z
      .object({
        sqlite: z
          .object({ path: z.string().min(1, 'must name a file').default(DEFAULTS.ledger.path) })
          .strict()
          .optional(),
        postgres: z.object({ url: postgresUrl }).strict().optional(),
        maxRedemptions: z
          .number({ invalid_type_error: 'must be an integer from 0' })
          .int('must be an integer from 0')
          .min(0, 'must be an integer from 0')
          .default(DEFAULTS.ledger.maxRedemptions),
        redeemWindowSeconds: positiveInt('seconds').default(DEFAULTS.ledger.redeemWindowSeconds),
        reconcileIntervalSeconds: positiveInt('seconds').default(
          DEFAULTS.ledger.reconcileIntervalSeconds,
        ),
        confirmations: positiveInt('blocks').default(DEFAULTS.ledger.confirmations),
      })
      .strict()
      .superRefine((ledger, ctx) => {
        if (ledger.sqlite !== undefined && ledger.postgres !== undefined) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['postgres'],
            message: 'give one book of record: sqlite or postgres, not both',
          });
        }
      }),
  ],
  {
    errorMap: (issue, ctx) =>
      issue.code === 'invalid_union'
        ? {
            message:
              'must be false or a mapping like { sqlite: { path: x402-ledger.sqlite } } or { postgres: { url: postgres://… } }',
          }
        : { message: ctx.defaultError },
  },
);

/** The upstream URL check lives with the named upstreams (upstreams.ts). */
export { upstreamSchema };

export const upstreamTimeoutSchema = positiveInt('ms').default(DEFAULTS.upstreamTimeoutMs);

/**
 * `{ amount: "10000" }`: a price already in atomic units. The amount text is read from the YAML
 * node.
 */
export const atomicPriceSchema = z.object({ amount: z.union([z.string(), z.number()]) }).strict();

/**
 * A price in whole tokens (`"$0.01"`, `0.01`, `0`) or atomic units; its text is read from the YAML
 * node.
 */
export const priceSchema = z.union([z.string(), z.number(), atomicPriceSchema], {
  errorMap: () => ({
    message: 'price must be "$0.01", "0.01", 0 or { amount: "<atomic units>" }',
  }),
});

const settleSchema = z.discriminatedUnion(
  'mode',
  [
    z.object({ mode: z.literal('headers') }).strict(),
    z
      .object({
        mode: z.literal('buffer'),
        maxBufferBytes: positiveInt('bytes').default(DEFAULTS.route.maxBufferBytes),
      })
      .strict(),
  ],
  { errorMap: () => ({ message: 'mode must be "headers" or "buffer"' }) },
);

/** A path segment prefix: `/api`, `/v1/legacy` (no trailing slash, query or fragment). */
const pathPrefix = z
  .string({ invalid_type_error: 'must be a path prefix string, e.g. /api' })
  .regex(
    /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/,
    'must be a path prefix of whole segments, starting with / and without a trailing /, e.g. /api',
  );

/**
 * `rewrite: { prefix: /api, replace: /v2 }`: the upstream sees the path with `prefix` replaced by
 * `replace` (`replace` left out or "": the prefix is stripped). Checked against the route's own
 * pattern in routes.ts; undone in the upstream's Location headers.
 */
export const rewriteSchema = z
  .object({
    prefix: pathPrefix,
    replace: z.union([pathPrefix, z.literal('')]).default(''),
  })
  .strict();

/** The long form of a route; anything left out comes from `payment` or DEFAULTS.route. */
export const routeObjectSchema = z
  .object({
    price: priceSchema,
    description: z.string().default(DEFAULTS.route.description),
    mimeType: z.string().default(DEFAULTS.route.mimeType),
    network: network.optional(),
    payTo: address.optional(),
    asset: assetSchema.optional(),
    maxTimeoutSeconds: positiveInt('seconds').optional(),
    settle: settleSchema.default({ mode: DEFAULTS.route.settleMode }),
    /** The name of an entry of `upstreams` (default: the top-level `upstream`). */
    upstream: z
      .string({ invalid_type_error: 'must be the name of an upstream in upstreams' })
      .min(1, 'must be the name of an upstream in upstreams')
      .optional(),
    rewrite: rewriteSchema.optional(),
  })
  .strict();

export type PaymentSection = z.output<typeof paymentSchema>;
export type RouteObject = z.output<typeof routeObjectSchema>;
export type AssetSection = z.output<typeof assetSchema>;

/** Top-level keys; `upstream` and `routes` are required. */
export const TOP_LEVEL_KEYS: readonly string[] = Object.freeze([
  'server',
  'facilitator',
  'facilitators',
  'payment',
  'upstream',
  'upstreams',
  'upstreamTimeoutMs',
  'unpriced',
  'verifyCache',
  'signatureCheck',
  'replay',
  'store',
  'log',
  'rateLimits',
  'rpcUrls',
  'ledger',
  'routes',
]);
export const REQUIRED_TOP_LEVEL_KEYS: readonly string[] = Object.freeze(['upstream', 'routes']);

/**
 * The whole file as one strict object, every section included: what the JSON Schema for editors is
 * generated from (json-schema.ts). The loader does not parse with it: it checks section by section
 * (a missing or null section is its defaults), resolves routes against `payment` and reports every
 * problem at once, so it stays the full check. Where a section's schema takes `unknown` and
 * transforms it (facilitator, rpcUrls), this describes the input instead.
 */
export const configFileSchema = z
  .object({
    server: serverSchema.nullish(),
    facilitator: z.union([httpFacilitatorSchema, localFacilitatorSchema]).nullish(),
    // Failover order; the built-in facilitator (local) only as a list of one.
    facilitators: z
      .array(z.union([httpFacilitatorSchema, localFacilitatorSchema]))
      .min(1)
      .nullish(),
    payment: paymentSchema.nullish(),
    // A URL, or the name of an entry of `upstreams`.
    upstream: z.union([upstreamSchema, z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)]),
    upstreams: upstreamsFileSchema.nullish(),
    upstreamTimeoutMs: upstreamTimeoutSchema,
    unpriced: unpricedSchema,
    verifyCache: verifyCacheSchema.nullish(),
    signatureCheck: signatureCheckSchema.nullish(),
    replay: replaySchema.nullish(),
    store: storeSchema.nullish(),
    log: logSchema.nullish(),
    rateLimits: rateLimitsSchema.nullish(),
    rpcUrls: z
      .record(
        z.enum(NETWORKS.flatMap((n) => [n.v1Name, n.caip2]) as [string, ...string[]]),
        httpUrl,
      )
      .nullish(),
    ledger: ledgerSchema.nullish(),
    routes: z.record(z.string(), z.union([priceSchema, routeObjectSchema])),
  })
  .strict();
