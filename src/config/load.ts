/**
 * Config loading: read → YAML parse (with lines) → `${ENV}` interpolation → validate every section
 * → resolve routes → collect ALL problems → deep-freeze. Bad input never throws; it comes back as
 * problems.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { output as ZodOutput, ZodType, ZodTypeDef } from 'zod';
import { isMap } from 'yaml';
import { addZodIssues } from './problems.js';
import { resolveRoutes } from './routes.js';
import {
  facilitatorSchema,
  facilitatorsSchema,
  ledgerSchema,
  logSchema,
  rateLimitsSchema,
  paymentSchema,
  replaySchema,
  storeSchema,
  rpcUrlsSchema,
  REQUIRED_TOP_LEVEL_KEYS,
  serverSchema,
  TOP_LEVEL_KEYS,
  unpricedSchema,
  upstreamTimeoutSchema,
  verifyCacheSchema,
  signatureCheckSchema,
} from './schema.js';
import { workerProblems } from './workers.js';
import type { ConfigResult, FacilitatorConfig, GatewayConfig, LedgerConfig } from './types.js';
import { facilitatorDeadlines } from './deadlines.js';
import { DEFAULTS } from './defaults.js';
import { resolveDefaultUpstream, resolveUpstreams } from './upstreams.js';
import {
  interpolate,
  newLineCounter,
  parseYaml,
  ProblemSink,
  reportDuplicateKeys,
  type KeyPath,
} from './yaml-doc.js';

const ALL_PAYMENT_KEYS: ReadonlySet<string> = new Set([
  'network',
  'payTo',
  'maxTimeoutSeconds',
  'asset',
]);

/** Aliases expanded beyond this are refused (YAML "billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/** Read and load a config file. An unreadable file is reported as a problem, not thrown. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : (code ?? (err as Error).message);
    const message = `cannot read config file ${path}: ${why}`;
    return { ok: false, problems: [{ path: '', message }] };
  }
  return loadConfigText(text, env, path, { baseDir: dirname(resolve(path)) });
}

export interface LoadOptions {
  /** The folder relative file paths (the ledger) are resolved against. Default: the working one. */
  readonly baseDir?: string;
}

/** Section parse: the validated value, or undefined after its problems were recorded. */
function section<T>(
  sink: ProblemSink,
  schema: ZodType<T, ZodTypeDef, unknown>,
  path: KeyPath,
  value: unknown,
): T | undefined {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  addZodIssues(sink, path, parsed.error);
  return undefined;
}

/** A section's valid part: what parses without its invalid keys, and which keys those were. */
interface SectionPart<T> {
  readonly data: T | undefined;
  /** First-level keys that were invalid (already reported); their defaults must not stand in. */
  readonly broken: ReadonlySet<string>;
}

/**
 * Like `section`, but on failure parse again without the offending keys, so that checks in other
 * sections that only need the valid keys still run (every problem is reported, not just the first).
 */
function partialSection<T>(
  sink: ProblemSink,
  schema: ZodType<T, ZodTypeDef, unknown>,
  path: KeyPath,
  value: unknown,
): { readonly full: T | undefined; readonly partial: SectionPart<T> } {
  const parsed = schema.safeParse(value);
  if (parsed.success) {
    return { full: parsed.data, partial: { data: parsed.data, broken: new Set() } };
  }
  addZodIssues(sink, path, parsed.error);
  const broken = new Set<string>();
  for (const issue of parsed.error.issues) {
    if (issue.path.length > 0) broken.add(String(issue.path[0]));
    else if (issue.code === 'unrecognized_keys') issue.keys.forEach((k) => broken.add(k));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || broken.size === 0) {
    return { full: undefined, partial: { data: undefined, broken } };
  }
  const rest = Object.fromEntries(Object.entries(value).filter(([k]) => !broken.has(k)));
  const retry = schema.safeParse(rest);
  return { full: undefined, partial: { data: retry.success ? retry.data : undefined, broken } };
}

/**
 * The facilitators, in failover order: `facilitators:` (a list), else `facilitator:` (or its
 * defaults) as a list of one. Both at once is a problem: which one would be first?
 */
function facilitatorList(
  sink: ProblemSink,
  raw: Record<string, unknown>,
  single: FacilitatorConfig | undefined,
): readonly FacilitatorConfig[] | undefined {
  if (raw.facilitators === undefined) return single === undefined ? undefined : [single];
  if (raw.facilitator !== undefined) {
    sink.add(
      ['facilitators'],
      'give either facilitator (one) or facilitators (a list tried in order), not both',
    );
    return undefined;
  }
  return section(sink, facilitatorsSchema, ['facilitators'], raw.facilitators);
}

/**
 * Load a config from YAML text. `env` supplies `${NAME}` values; `sourceName` (usually the file
 * path) appears in messages. Returns the deep-frozen config, or every problem found, sorted by
 * line.
 */
export function loadConfigText(
  text: string,
  env: NodeJS.ProcessEnv,
  sourceName: string,
  options: LoadOptions = {},
): ConfigResult {
  const lines = newLineCounter();
  const bootstrap = new ProblemSink(undefined);
  const yaml = parseYaml(text, bootstrap, lines);
  const sink = new ProblemSink(yaml);
  sink.problems.push(...bootstrap.problems);
  if (yaml.doc.errors.length > 0) return fail(sink, sourceName);

  if (!isMap(yaml.doc.contents)) {
    const what = yaml.doc.contents === null ? 'config is empty' : 'config is not a YAML mapping';
    sink.add([], `${what}: upstream and routes are required`);
    return fail(sink, sourceName);
  }
  reportDuplicateKeys(yaml, sink);
  interpolate(yaml, env, sink);

  let raw: Record<string, unknown>;
  try {
    raw = yaml.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Record<string, unknown>;
  } catch (err) {
    sink.add([], `YAML: ${(err as Error).message}`);
    return fail(sink, sourceName);
  }

  for (const key of Object.keys(raw)) {
    if (!TOP_LEVEL_KEYS.includes(key)) sink.add([key], `unknown key "${key}"`);
  }
  for (const key of REQUIRED_TOP_LEVEL_KEYS) {
    if (raw[key] === undefined) sink.add([key], 'is required');
  }

  const server = section(sink, serverSchema, ['server'], raw.server ?? {});
  const facilitatorParse = partialSection(
    sink,
    facilitatorSchema,
    ['facilitator'],
    raw.facilitator ?? {},
  );
  const facilitators = facilitatorList(sink, raw, facilitatorParse.full);
  const facilitator = facilitators?.[0];
  const listDeadlines =
    raw.facilitators === undefined || facilitators === undefined
      ? undefined
      : facilitatorDeadlines({ facilitators });
  const payment = partialSection(sink, paymentSchema, ['payment'], raw.payment ?? {});
  const upstreams = resolveUpstreams(sink, raw.upstreams, options.baseDir ?? process.cwd());
  const defaultUpstream =
    raw.upstream === undefined ? undefined : resolveDefaultUpstream(sink, raw.upstream, upstreams);
  const upstream =
    defaultUpstream === undefined ? undefined : (defaultUpstream.url ?? defaultUpstream.name);
  const upstreamTimeoutMs = section(
    sink,
    upstreamTimeoutSchema,
    ['upstreamTimeoutMs'],
    raw.upstreamTimeoutMs,
  );
  const unpriced = section(sink, unpricedSchema, ['unpriced'], raw.unpriced);
  const verifyCache = section(sink, verifyCacheSchema, ['verifyCache'], raw.verifyCache ?? {});
  const signatureCheck = section(
    sink,
    signatureCheckSchema,
    ['signatureCheck'],
    raw.signatureCheck ?? {},
  );
  const replay = section(sink, replaySchema, ['replay'], raw.replay ?? {});
  const store = section(sink, storeSchema, ['store'], raw.store ?? {});
  const log = section(sink, logSchema, ['log'], raw.log ?? {});
  const rateLimits = section(sink, rateLimitsSchema, ['rateLimits'], raw.rateLimits ?? {});
  const rpcUrls = section(sink, rpcUrlsSchema, ['rpcUrls'], raw.rpcUrls ?? {});
  const ledgerSection = section(sink, ledgerSchema, ['ledger'], raw.ledger ?? {});
  const routes =
    raw.routes === undefined
      ? []
      : resolveRoutes(yaml, sink, raw.routes, {
          payment: payment.partial.data,
          brokenPayment:
            payment.partial.data === undefined ? ALL_PAYMENT_KEYS : payment.partial.broken,
          upstreamTimeoutMs,
          upstreams,
          defaultUpstream: defaultUpstream?.name,
          settleTimeoutMs:
            listDeadlines?.settleTimeoutMs ??
            (facilitatorParse.partial.broken.has('settleTimeoutMs')
              ? undefined
              : facilitatorParse.partial.data?.settleTimeoutMs),
          verifyTimeoutMs:
            listDeadlines?.verifyTimeoutMs ??
            (facilitatorParse.partial.broken.has('verifyTimeoutMs')
              ? undefined
              : facilitatorParse.partial.data?.verifyTimeoutMs),
        });

  if (server !== undefined && store !== undefined && ledgerSection !== undefined && facilitator) {
    const ledger = ledgerSection === false ? false : { postgres: ledgerSection.postgres };
    for (const p of workerProblems({ workers: server.workers, store, ledger, facilitator })) {
      sink.add([...p.path], p.message);
    }
  }

  if (
    sink.problems.length > 0 ||
    server === undefined ||
    facilitator === undefined ||
    facilitators === undefined ||
    payment.full === undefined ||
    upstream === undefined ||
    upstreams === undefined ||
    upstreamTimeoutMs === undefined ||
    unpriced === undefined ||
    verifyCache === undefined ||
    signatureCheck === undefined ||
    replay === undefined ||
    store === undefined ||
    log === undefined ||
    rateLimits === undefined ||
    rpcUrls === undefined ||
    ledgerSection === undefined
  ) {
    return fail(sink, sourceName);
  }
  const config: GatewayConfig = {
    server,
    facilitator,
    facilitators,
    upstream,
    upstreams,
    upstreamTimeoutMs,
    unpriced,
    routes,
    verifyCache,
    signatureCheck,
    replay,
    store,
    log,
    rateLimits,
    rpcUrls,
    ledger:
      ledgerSection === false
        ? false
        : ledgerConfig(ledgerSection, options.baseDir ?? process.cwd()),
  };
  return { ok: true, config: deepFreeze(config) };
}

/**
 * The book of record: Postgres when a URL is given, else the SQLite file (the default one when
 * none is named), its path resolved against the config's folder.
 */
function ledgerConfig(
  section: Exclude<ZodOutput<typeof ledgerSchema>, false>,
  baseDir: string,
): LedgerConfig {
  const { sqlite, postgres, ...settings } = section;
  if (postgres !== undefined) return { ...settings, postgres };
  return { ...settings, sqlite: { path: resolve(baseDir, sqlite?.path ?? DEFAULTS.ledger.path) } };
}

function fail(sink: ProblemSink, sourceName: string): ConfigResult {
  if (sink.problems.length === 0) {
    // A section failed without saying why: a bug in this loader, not in the user's file.
    throw new Error(`validating ${sourceName} failed without reporting a problem`);
  }
  // Stable sort: by line, problems without a line first, otherwise in the order found.
  const problems = [...sink.problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { ok: false, problems };
}

/** Freeze an object graph (plain objects and arrays; bigint and strings are immutable already). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.freeze(value); // children are visited even under an already frozen parent
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
