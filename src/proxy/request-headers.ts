/**
 * What the upstream is told. Payment headers never reach it; neither do hop-by-hop headers or
 * headers that would let a client rewrite the method or path behind our pricing decision.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { namedByConnection } from './connection-header.js';

/** Hop-by-hop headers (RFC 9110 §7.6.1) plus legacy ones. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/**
 * Expectations our own server has met: node answers `Expect: 100-continue` before the body is
 * read, so the upstream gets the body without being asked (and undici refuses to send the header).
 */
const MET_HERE = ['expect'];

/**
 * Headers that some frameworks honour to change the method or the path after routing
 * (X-HTTP-Method-Override and friends, IIS/Symfony X-Original-URL / X-Rewrite-URL): a client could
 * otherwise pay for a cheap route and have the upstream serve a priced one.
 */
const REWRITE_HEADERS = [
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  'x-original-url',
  'x-rewrite-url',
  'x-original-method',
  // Path hints nginx, Traefik, Envoy and auth proxies set, which some apps route on.
  'x-original-uri',
  'x-forwarded-uri',
  'x-forwarded-path',
  'x-envoy-original-path',
];

/** Payment protocol headers (request side) and every client-sent `x-payment-*`. */
const PAYMENT_HEADERS = ['payment-signature', 'x-payment', 'payment-required', 'payment-response'];

/**
 * The facts the gateway vouches for to the upstream: set by us alone, so no client spelling of them
 * may pass (CGI, WSGI and PHP read `X_Payment_Payer` as `HTTP_X_PAYMENT_PAYER`, the same variable
 * as our `X-Payment-Payer`).
 */
const VOUCHED = ['x-request-id', 'x-payment-payer', 'x-payment-amount', 'x-payment-network'];

const FORWARDED = [
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'forwarded',
];

const DROP_TRUSTED = new Set([
  ...HOP_BY_HOP,
  ...MET_HERE,
  ...REWRITE_HEADERS,
  ...PAYMENT_HEADERS,
  ...VOUCHED,
]);
/** Without trustProxy, client-sent X-Forwarded-* / Forwarded are dropped and replaced by ours. */
const DROP_UNTRUSTED = new Set([...DROP_TRUSTED, ...FORWARDED]);
/**
 * Names with `_` that spell a dropped or vouched header (`x_payment_payer`, `X-Forwarded_For`) go
 * even when underscores are allowed: CGI-style servers read `-` and `_` as the same character.
 */
const DROP_ANY_SPELLING = new Set([...DROP_UNTRUSTED]);

export interface PaymentFacts {
  readonly payer: string;
  readonly amount: string;
  readonly network: string;
}

export interface HeaderPolicy {
  /** Client-sent X-Forwarded-* are kept and ours appended (a proxy we run in front of us set them). */
  readonly trustProxy: boolean;
  /** Drop every client header whose name contains `_` (nginx's default). */
  readonly dropUnderscoreHeaders: boolean;
}

/**
 * An upstream's own header edits (`upstreams.<name>.headers` / `removeHeaders`), names lower-case.
 * `skip` holds both: a client's header of an added name never passes (the added value replaces
 * it, so no client can inject or replace the upstream's key), and a removed one never does.
 */
export interface HeaderEdits {
  readonly add: Readonly<Record<string, string>>;
  readonly skip: ReadonlySet<string>;
}

export function headerEdits(
  add: Readonly<Record<string, string>>,
  remove: readonly string[],
): HeaderEdits | undefined {
  const names = Object.keys(add);
  if (names.length === 0 && remove.length === 0) return undefined;
  return Object.freeze({ add, skip: new Set([...names, ...remove]) });
}

export interface ForwardedFacts {
  readonly clientIp: string;
  readonly host: string;
  readonly proto: 'http' | 'https';
  readonly requestId: string;
}

/**
 * The headers for the upstream request: the client's, minus the dropped ones, plus ours.
 *
 * A new object rather than deletes on the client's: `delete` turns an object into a slow
 * dictionary, and undici walks these headers again to check and write the request.
 *
 * @param policy trustProxy: when true, client-sent X-Forwarded-* are kept and ours appended (a proxy
 *   we run in front of us set them); when false they are dropped and replaced.
 *   dropUnderscoreHeaders: drop every name with `_`; when false, only those that spell a header
 *   this function drops or sets.
 */
export function upstreamHeaders(
  headers: IncomingHttpHeaders,
  forwarded: ForwardedFacts,
  payment: PaymentFacts | undefined,
  policy: HeaderPolicy,
  edits?: HeaderEdits,
): IncomingHttpHeaders {
  const named = namedByConnection(headers.connection);
  const drop = policy.trustProxy ? DROP_TRUSTED : DROP_UNTRUSTED;
  const skip = edits?.skip;
  const out: IncomingHttpHeaders = {};
  for (const name in headers) {
    // `x-payment*`: only we may tell the upstream who paid.
    if (drop.has(name) || name.startsWith('x-payment') || named?.has(name) === true) continue;
    if (skip !== undefined && skip.has(name)) continue;
    // Node lower-cases names; `-` and `_` are the one other difference CGI-style servers erase.
    if (name.includes('_')) {
      if (policy.dropUnderscoreHeaders) continue;
      const spelled = name.replaceAll('_', '-');
      if (DROP_ANY_SPELLING.has(spelled) || spelled.startsWith('x-payment')) continue;
      // `x_api_key` must not stand beside our `x-api-key` either (CGI reads both as one).
      if (skip !== undefined && skip.has(spelled)) continue;
    }
    out[name] = headers[name];
  }
  if (edits !== undefined) Object.assign(out, edits.add);

  if (policy.trustProxy) {
    const prior = out['x-forwarded-for'];
    out['x-forwarded-for'] =
      typeof prior === 'string' && prior !== ''
        ? `${prior}, ${forwarded.clientIp}`
        : forwarded.clientIp;
    out['x-forwarded-host'] ??= forwarded.host;
    out['x-forwarded-proto'] ??= forwarded.proto;
  } else {
    out['x-forwarded-for'] = forwarded.clientIp;
    out['x-forwarded-host'] = forwarded.host;
    out['x-forwarded-proto'] = forwarded.proto;
  }
  out['x-request-id'] = forwarded.requestId;

  if (payment !== undefined) {
    out['x-payment-payer'] = payment.payer;
    out['x-payment-amount'] = payment.amount;
    out['x-payment-network'] = payment.network;
  }
  return out;
}
