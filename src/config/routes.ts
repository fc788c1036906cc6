/**
 * `routes:` → RouteConfig[]: route keys parsed with the price table's own parser, each route's
 * network, asset, payTo and maxTimeoutSeconds resolved against `payment`, prices read from the YAML
 * source text and turned into atomic units, and ties between routes found. Every problem is
 * collected; nothing stops at the first.
 */
import { isMap, isScalar } from 'yaml';
import type { Address } from 'viem';
import { parseAtomicAmount, parsePrice, parseRouteKey, type PriceParse } from '../pricing/index.js';
import type { AssetInfo, NetworkInfo } from '../chains/index.js';
import { DEFAULTS } from './defaults.js';
import { addZodIssues } from './problems.js';
import {
  atomicPriceSchema,
  priceSchema,
  routeObjectSchema,
  type PaymentSection,
  type RouteObject,
} from './schema.js';
import type { RouteConfig, SettleMode, UpstreamConfig } from './types.js';
import type { KeyPath, ParsedYaml, ProblemSink } from './yaml-doc.js';

/**
 * Free routes need no payee; they carry this placeholder (never put on the wire: free routes have
 * no offers).
 */
const NO_PAYEE = '0x0000000000000000000000000000000000000000' as Address;

const PRICE_FORMS = 'price must be "$0.01", "0.01", 0 or { amount: "<atomic units>" }';

/** Facilitators want validBefore ≥ now + 6 s when they check a payment (docs/protocol.md §8.2). */
const FACILITATOR_BUFFER_SECONDS = 6;

/**
 * What route resolution needs from the other sections; undefined when that section itself was
 * invalid.
 */
export interface RouteDefaults {
  /** The valid part of `payment`. */
  readonly payment: PaymentSection | undefined;
  /**
   * `payment` keys that were invalid (already reported): whatever depends on them is skipped
   * silently rather than checked against a default the user did not mean.
   */
  readonly brokenPayment: ReadonlySet<string>;
  readonly upstreamTimeoutMs: number | undefined;
  /** The resolved `upstreams` (undefined when that section was invalid: names are not checked). */
  readonly upstreams?: Readonly<Record<string, UpstreamConfig>> | undefined;
  /** The default upstream's name (`upstream:`), undefined when it was invalid. */
  readonly defaultUpstream?: string | undefined;
  readonly settleTimeoutMs: number | undefined;
  /** facilitator.verifyTimeoutMs; counted too (verify runs before the upstream); 0 if absent. */
  readonly verifyTimeoutMs?: number | undefined;
}

/**
 * Text of a price scalar as written: a YAML float like 0.10 is read from its source, never as a JS
 * number.
 */
function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  if (typeof node.value === 'string') return node.value;
  if (typeof node.value === 'number') return node.source ?? String(node.value);
  return undefined;
}

interface PriceSpec {
  /** Atomic units as written (`{ amount }`), or whole tokens (`"$0.01"`). */
  readonly kind: 'atomic' | 'tokens';
  readonly text: string;
  readonly path: KeyPath;
}

/** The parsed long or short form of one route, before resolution against `payment`. */
interface RouteInput {
  readonly price: PriceSpec | undefined;
  readonly body: RouteObject | undefined;
  /** Keys of the long form that were invalid (already reported): checks needing them are skipped. */
  readonly broken?: ReadonlySet<string>;
}

function readRouteValue(
  yaml: ParsedYaml,
  sink: ProblemSink,
  path: KeyPath,
  value: unknown,
): RouteInput | undefined {
  const node = yaml.nodeAt(path);
  const priceFrom = (priceNode: unknown, pricePath: KeyPath): PriceSpec | undefined => {
    if (isMap(priceNode)) {
      const text = scalarText(priceNode.get('amount', true));
      if (text === undefined) return undefined;
      return { kind: 'atomic', text, path: [...pricePath, 'amount'] };
    }
    const text = scalarText(priceNode);
    return text === undefined ? undefined : { kind: 'tokens', text, path: pricePath };
  };

  if (typeof value === 'string' || typeof value === 'number') {
    return { price: priceFrom(node, path), body: undefined };
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'amount' in value) {
    const parsed = atomicPriceSchema.safeParse(value);
    if (!parsed.success) {
      addZodIssues(sink, path, parsed.error);
      return undefined;
    }
    return { price: priceFrom(node, path), body: undefined };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const check = priceSchema.safeParse(value);
    sink.add(path, check.success ? 'has an invalid value' : (check.error.issues[0]?.message ?? ''));
    return undefined;
  }
  const parsed = routeObjectSchema.safeParse(value);
  const priceNode = isMap(node) ? node.get('price', true) : undefined;
  if (parsed.success) return { price: priceFrom(priceNode, [...path, 'price']), body: parsed.data };
  addZodIssues(sink, path, parsed.error);
  // Check what the valid keys allow (the price, say), so that every problem shows at once.
  const broken = new Set<string>();
  for (const issue of parsed.error.issues) {
    if (issue.path.length > 0) broken.add(String(issue.path[0]));
    else if (issue.code === 'unrecognized_keys') issue.keys.forEach((k) => broken.add(k));
  }
  if (broken.size === 0 || broken.has('price')) return undefined;
  const rest = Object.fromEntries(Object.entries(value).filter(([k]) => !broken.has(k)));
  const retry = routeObjectSchema.safeParse(rest);
  if (!retry.success) return undefined;
  return { price: priceFrom(priceNode, [...path, 'price']), body: retry.data, broken };
}

/** Resolve every route. Returns the routes that resolved; problems go to `sink`. */
export function resolveRoutes(
  yaml: ParsedYaml,
  sink: ProblemSink,
  raw: unknown,
  defaults: RouteDefaults,
): RouteConfig[] {
  const routesNode = yaml.nodeAt(['routes']);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || !isMap(routesNode)) {
    sink.add(['routes'], 'must be a mapping of "METHOD /path" keys to prices');
    return [];
  }
  const out: RouteConfig[] = [];
  const byTie = new Map<string, { id: string; line: number | undefined }>();
  const seenKeys = new Set<string>();
  const once = new Set<string>();
  const reportOnce = (path: KeyPath, message: string, line?: number): void => {
    const key = path.join('.');
    if (once.has(key)) return;
    once.add(key);
    sink.add(path, message, line);
  };

  for (const pair of routesNode.items) {
    const id = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (seenKeys.has(id)) continue; // reported as a duplicate key already
    seenKeys.add(id);
    const path: KeyPath = ['routes', id];
    const line = yaml.lineOfNode(pair.key);
    const value = (raw as Record<string, unknown>)[id];

    const key = parseRouteKey(id);
    if (!key.ok) sink.add(path, key.message, line);
    else {
      const tie = byTie.get(key.value.tieKey);
      if (tie !== undefined) {
        sink.add(
          path,
          `ties with route "${tie.id}"${tie.line === undefined ? '' : ` (line ${tie.line})`}: ` +
            'same method and path shape, so neither is more specific',
          line,
        );
      } else {
        byTie.set(key.value.tieKey, { id, line });
      }
    }

    const input = readRouteValue(yaml, sink, path, value);
    if (input === undefined) continue;
    const target = checkUpstream(
      sink,
      path,
      input.body,
      key.ok ? key.value.pattern : undefined,
      defaults,
    );
    // A bad key or a bad long-form key is reported already; its price is still checked.
    const resolved = resolveOne(sink, reportOnce, path, line, input, defaults, target.timeoutMs);
    if (!key.ok || input.broken !== undefined || resolved === undefined || !target.ok) continue;
    const route: RouteConfig = {
      id,
      method: key.value.method,
      pattern: key.value.pattern,
      ...resolved,
      ...(line === undefined ? {} : { line }),
    };
    out.push(route);
  }
  return out;
}

type Resolved = Omit<RouteConfig, 'id' | 'method' | 'pattern' | 'line'>;

/**
 * A route's `upstream` must name an entry of `upstreams`, and its `rewrite.prefix` must lead its
 * own pattern (otherwise the rewrite could never apply). Also gives the deadline that upstream runs
 * with, for the maxTimeoutSeconds check.
 */
function checkUpstream(
  sink: ProblemSink,
  path: KeyPath,
  body: RouteObject | undefined,
  pattern: string | undefined,
  defaults: RouteDefaults,
): { ok: boolean; timeoutMs: number | undefined } {
  const { upstreams, defaultUpstream, upstreamTimeoutMs } = defaults;
  let ok = true;
  const name = body?.upstream ?? defaultUpstream;
  if (
    body?.upstream !== undefined &&
    upstreams !== undefined &&
    upstreams[body.upstream] === undefined
  ) {
    const known = Object.keys(upstreams);
    sink.add(
      [...path, 'upstream'],
      `names no upstream "${body.upstream}": ` +
        (known.length === 0 ? 'upstreams is empty' : `upstreams has ${known.join(', ')}`),
    );
    ok = false;
  }
  const rewrite = body?.rewrite;
  if (rewrite !== undefined && pattern !== undefined) {
    const p = pattern.toLowerCase();
    const prefix = rewrite.prefix.toLowerCase();
    if (p !== prefix && !p.startsWith(`${prefix}/`)) {
      sink.add(
        [...path, 'rewrite', 'prefix'],
        `"${rewrite.prefix}" does not lead the route's path "${pattern}": the rewrite would never apply`,
      );
      ok = false;
    }
  }
  const own = name === undefined ? undefined : upstreams?.[name]?.timeoutMs;
  return { ok, timeoutMs: own ?? upstreamTimeoutMs };
}

function resolveOne(
  sink: ProblemSink,
  reportOnce: (path: KeyPath, message: string, line?: number) => void,
  path: KeyPath,
  routeLine: number | undefined,
  input: RouteInput,
  defaults: RouteDefaults,
  /** The deadline of the upstream this route goes to (its own `timeoutMs`, else upstreamTimeoutMs). */
  upstreamTimeoutMs: number | undefined,
): Resolved | undefined {
  const { payment, brokenPayment: broken } = defaults;
  const body = input.body;
  if (input.price === undefined) {
    sink.add([...path, 'price'], PRICE_FORMS);
    return undefined;
  }
  // The route's own network, asset or payee was invalid: what depends on it cannot be checked.
  const own = input.broken ?? new Set<string>();
  if (own.has('network') || own.has('asset')) return undefined;

  // Network and asset: a route that switches network without naming an asset gets that network's
  // USDC; payment.asset belongs to payment.network and is never carried over to another chain.
  // Whatever depends on an invalid `payment` key (already reported) is skipped silently.
  const network: NetworkInfo | undefined =
    body?.network ?? (broken.has('network') ? undefined : payment?.network);
  if (network === undefined) return undefined;
  const sameNetworkAsPayment =
    payment !== undefined && !broken.has('network') && network === payment.network;
  let asset: AssetInfo | null | undefined = body?.asset;
  if (asset === undefined) {
    if (sameNetworkAsPayment && broken.has('asset')) return undefined;
    asset = sameNetworkAsPayment ? (payment.asset ?? network.usdc) : network.usdc;
  }
  if (asset === null) {
    const where: KeyPath =
      sameNetworkAsPayment && body?.network === undefined
        ? ['payment', 'asset']
        : [...path, 'asset'];
    reportOnce(
      where,
      `is required: network ${network.v1Name} (${network.caip2}) has no built-in USDC, ` +
        'so name the asset (address, decimals, name, version)',
    );
    return undefined;
  }

  const parsed: PriceParse =
    input.price.kind === 'atomic'
      ? parseAtomicAmount(input.price.text)
      : parsePrice(input.price.text, asset.decimals);
  if (!parsed.ok) {
    sink.add(input.price.path, parsed.message);
    return undefined;
  }
  const amount = parsed.amount;
  const priced = amount > 0n;

  let payTo: Address | undefined = body?.payTo ?? payment?.payTo;
  if (payTo === undefined) {
    if (priced && (broken.has('payTo') || own.has('payTo'))) return undefined;
    if (priced) {
      reportOnce(
        ['payment', 'payTo'],
        `is required: priced routes need an address to be paid to (first: "${path[1]}")`,
        routeLine,
      );
      return undefined;
    }
    payTo = NO_PAYEE;
  }

  const ownTimeout = body?.maxTimeoutSeconds;
  const maxTimeoutSeconds =
    ownTimeout ?? payment?.maxTimeoutSeconds ?? DEFAULTS.payment.maxTimeoutSeconds;
  const { settleTimeoutMs } = defaults;
  const verifyTimeoutMs = defaults.verifyTimeoutMs ?? 0;
  const timeoutKnown =
    !own.has('maxTimeoutSeconds') && (ownTimeout !== undefined || !broken.has('maxTimeoutSeconds'));
  if (priced && timeoutKnown && upstreamTimeoutMs !== undefined && settleTimeoutMs !== undefined) {
    const min =
      Math.ceil((verifyTimeoutMs + upstreamTimeoutMs + settleTimeoutMs) / 1000) +
      FACILITATOR_BUFFER_SECONDS;
    if (maxTimeoutSeconds < min) {
      const where: KeyPath =
        ownTimeout !== undefined
          ? [...path, 'maxTimeoutSeconds']
          : ['payment', 'maxTimeoutSeconds'];
      const inherited = payment?.maxTimeoutSeconds === undefined && ownTimeout === undefined;
      reportOnce(
        where,
        `${maxTimeoutSeconds}${inherited ? ' (the default)' : ''} is too short: clients sign ` +
          'validBefore = now + maxTimeoutSeconds, and the gateway may need ' +
          `facilitator.verifyTimeoutMs (${verifyTimeoutMs} ms) + upstreamTimeoutMs ` +
          `(${upstreamTimeoutMs} ms) + facilitator.settleTimeoutMs (${settleTimeoutMs} ms, the ` +
          'whole settle phase, its retry included) ' +
          `+ the facilitator's ${FACILITATOR_BUFFER_SECONDS} s buffer, ` +
          `so it must be at least ${min}`,
      );
      return undefined;
    }
  }

  const settle: SettleMode = body?.settle ?? { mode: DEFAULTS.route.settleMode };
  return {
    amount,
    network,
    asset: {
      address: asset.address,
      decimals: asset.decimals,
      name: asset.name,
      version: asset.version,
    },
    payTo,
    maxTimeoutSeconds,
    description: body?.description ?? DEFAULTS.route.description,
    mimeType: body?.mimeType ?? DEFAULTS.route.mimeType,
    settle,
    ...(body?.upstream === undefined ? {} : { upstream: body.upstream }),
    ...(body?.rewrite === undefined ? {} : { rewrite: body.rewrite }),
  };
}
