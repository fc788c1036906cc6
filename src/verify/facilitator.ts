/**
 * HTTP client of a remote facilitator (docs/protocol.md §7): POST /verify, POST /settle and
 * GET /supported.
 *
 * Built on an undici `Pool` through its low-level `dispatch` API, not the global `fetch`
 * (about 400 µs more CPU per call, docs/performance.md §3) nor `node:http.request`: against a
 * loopback stub with 32 calls in flight, a call costs ~18-22 µs of CPU here against ~28-30 µs on a
 * keep-alive `http.Agent` (bench/micro/facilitator-client.ts), and a paid request makes two. Every
 * operation has a hard deadline covering the wait for a socket, connect, request and the whole
 * reply body; on expiry the request is aborted, which destroys its socket. Replies are capped in
 * size and checked field by field (replies.ts). Expected failures come back as values, never as
 * throws.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import type { SettleResponse, VerifyResponse } from '../x402/index.js';
import { parseSettleReply, parseSupportedReply, parseVerifyReply } from './replies.js';
import type {
  FacilitatorClient,
  FacilitatorFailure,
  FacilitatorRequest,
  FacilitatorResult,
  SettleOptions,
  SupportedResponse,
} from './types.js';

export interface HttpFacilitatorOptions {
  /**
   * Base URL, optionally with a base path (`https://api.cdp.coinbase.com/platform/v2/x402`).
   * Trailing slashes are ignored.
   */
  readonly url: string;
  /** Deadline of POST /verify, ms (connect + reply body). */
  readonly verifyTimeoutMs: number;
  /** Deadline of POST /settle, ms. */
  readonly settleTimeoutMs: number;
  /** Deadline of GET /supported, ms. */
  readonly supportedTimeoutMs: number;
  /** Static headers sent on every call (e.g. an API key). */
  readonly headers: Readonly<Record<string, string>>;
  /** Max sockets kept open to the facilitator. */
  readonly maxSockets: number;
  /**
   * Headers computed for each call (each attempt), merged over the static ones: e.g. CDP's
   * `authorization: Bearer <jwt>` minted for that method and URL (cdp-auth.ts). A rejection fails
   * the call (`network`, nothing sent); its message must not carry a secret.
   */
  readonly requestHeaders?: RequestHeaders;
}

/** Per-call headers for one call's method and absolute URL. */
export type RequestHeaders = (
  method: 'GET' | 'POST',
  url: string,
) => Promise<Readonly<Record<string, string>>>;

/** Replies larger than this are refused (`bad_response`) and the socket is dropped. */
export const MAX_REPLY_BYTES = 64 * 1024;

/** Longest `detail` string, in characters. */
const MAX_DETAIL_CHARS = 200;

/**
 * Idle keep-alive sockets are closed after this long, below the 5 s default keep-alive timeout of
 * Node servers, so we rarely write into a socket the server is closing. (undici also honours a
 * shorter `Keep-Alive: timeout=` hint from the server.)
 */
const IDLE_SOCKET_TIMEOUT_MS = 4000;

type Op = 'verify' | 'settle' | 'supported';

interface Endpoint<T> {
  readonly op: Op;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly timeoutMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The absolute URL, for per-call headers. */
  readonly url: string;
  readonly requestHeaders: RequestHeaders | undefined;
  readonly parse: (json: unknown) => T | undefined;
  /**
   * Whether a connection failure before any reply may be retried once (within the same deadline):
   * typically a keep-alive socket the server closed as we wrote to it. Only for the side-effect-free
   * operations; never for settle, whose second answer could be misread (nonce already used).
   */
  readonly retryBeforeReply: boolean;
}

/** Facilitator client over HTTP(S) with a keep-alive pool and per-operation deadlines. */
export class HttpFacilitatorClient implements FacilitatorClient {
  readonly #pool: Pool;
  readonly #verify: Endpoint<VerifyResponse>;
  readonly #settle: Endpoint<SettleResponse>;
  readonly #supported: Endpoint<SupportedResponse>;

  constructor(options: HttpFacilitatorOptions) {
    const url = new URL(options.url.replace(/\/+$/, ''));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`facilitator url must be http(s): ${options.url}`);
    }
    // Bad static headers are a configuration bug: fail here, not on every call.
    for (const [name, value] of Object.entries(options.headers)) {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (url.username !== '') {
      // Credentials in the URL become Basic auth, as node:http would send them.
      const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    }
    for (const [name, value] of Object.entries(options.headers))
      headers[name.toLowerCase()] = value;
    const getHeaders = Object.freeze(headers);
    const postHeaders = Object.freeze({ ...headers, 'content-type': 'application/json' });

    const longest = Math.max(
      options.verifyTimeoutMs,
      options.settleTimeoutMs,
      options.supportedTimeoutMs,
    );
    this.#pool = new Pool(url.origin, {
      connections: options.maxSockets,
      keepAliveTimeout: IDLE_SOCKET_TIMEOUT_MS,
      // Our own deadline (below) is the limit that matters; these only stop undici's defaults
      // (300 s) from outliving it.
      headersTimeout: longest,
      bodyTimeout: longest,
    });
    const base = url.pathname.replace(/\/+$/, '');
    const query = url.search;
    this.#verify = {
      op: 'verify',
      method: 'POST',
      path: `${base}/verify${query}`,
      url: `${url.origin}${base}/verify${query}`,
      requestHeaders: options.requestHeaders,
      timeoutMs: options.verifyTimeoutMs,
      headers: postHeaders,
      parse: parseVerifyReply,
      retryBeforeReply: true,
    };
    this.#settle = {
      op: 'settle',
      method: 'POST',
      path: `${base}/settle${query}`,
      url: `${url.origin}${base}/settle${query}`,
      requestHeaders: options.requestHeaders,
      timeoutMs: options.settleTimeoutMs,
      headers: postHeaders,
      parse: parseSettleReply,
      retryBeforeReply: false,
    };
    this.#supported = {
      op: 'supported',
      method: 'GET',
      path: `${base}/supported${query}`,
      url: `${url.origin}${base}/supported${query}`,
      requestHeaders: options.requestHeaders,
      timeoutMs: options.supportedTimeoutMs,
      headers: getHeaders,
      parse: parseSupportedReply,
      retryBeforeReply: true,
    };
  }

  verify(
    request: FacilitatorRequest,
    options?: SettleOptions,
  ): Promise<FacilitatorResult<VerifyResponse>> {
    const timeoutMs = options?.timeoutMs;
    return this.#call(
      this.#verify,
      requestBody(request),
      timeoutMs === undefined ? undefined : Math.min(timeoutMs, this.#verify.timeoutMs),
    );
  }

  settle(
    request: FacilitatorRequest,
    options?: SettleOptions,
  ): Promise<FacilitatorResult<SettleResponse>> {
    const timeoutMs = options?.timeoutMs;
    return this.#call(
      this.#settle,
      requestBody(request),
      timeoutMs === undefined ? undefined : Math.min(timeoutMs, this.#settle.timeoutMs),
    );
  }

  supported(): Promise<FacilitatorResult<SupportedResponse>> {
    return this.#call(this.#supported, undefined);
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }

  #call<T>(
    endpoint: Endpoint<T>,
    body: string | undefined,
    timeoutMs = endpoint.timeoutMs,
  ): Promise<FacilitatorResult<T>> {
    return new Promise((resolve) =>
      new Call(this.#pool, endpoint, body, resolve, Math.max(1, timeoutMs)).start(),
    );
  }
}

/**
 * One call: its deadline and its outcome, settled once. Objects with methods rather than a nest of
 * closures: a paid request makes two calls, and each closure is an allocation on the hot path.
 */
class Call<T> {
  done = false;
  controller: Dispatcher.DispatchController | undefined = undefined;
  /** undici took the request for a socket (onRequestStart): from then on, bytes may have left. */
  started = false;
  #timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly pool: Pool,
    readonly endpoint: Endpoint<T>,
    readonly body: string | undefined,
    readonly resolve: (result: FacilitatorResult<T>) => void,
    /** This call's deadline, ms: the endpoint's, or less (a settle retry's remaining budget). */
    readonly timeoutMs: number,
  ) {}

  start(): void {
    this.#timer = setTimeout(onDeadline<T>, this.timeoutMs, this);
    this.send(this.endpoint.retryBeforeReply);
  }

  send(mayRetry: boolean): void {
    const { endpoint } = this;
    if (endpoint.requestHeaders === undefined) {
      this.dispatch(endpoint.headers, mayRetry);
      return;
    }
    // Minted per attempt: a retry carries a fresh token (CDP wants one per request).
    endpoint.requestHeaders(endpoint.method, endpoint.url).then(
      (extra) => {
        if (!this.done) this.dispatch({ ...endpoint.headers, ...extra }, mayRetry);
      },
      (err: unknown) => {
        const why = err instanceof Error ? err.message : 'unknown error';
        this.fail('network', `request headers: ${why}`, undefined, !this.started);
      },
    );
  }

  dispatch(headers: Readonly<Record<string, string>>, mayRetry: boolean): void {
    const { endpoint } = this;
    this.pool.dispatch(
      { method: endpoint.method, path: endpoint.path, headers, body: this.body },
      new Attempt(this, mayRetry),
    );
  }

  finish(result: FacilitatorResult<T>): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.#timer);
    this.resolve(result);
  }

  fail(failure: FacilitatorFailure, detail: string, status?: number, notSent = false): void {
    const d = `${this.endpoint.op}: ${detail}`;
    // Only a request no socket ever took is known not to have left (failover may send it elsewhere).
    this.finish(notSent ? notSentResult(failure, d) : unavailable(failure, d, status));
  }
}

function onDeadline<T>(call: Call<T>): void {
  call.fail('timeout', `no complete reply within ${call.timeoutMs} ms`);
  // Aborting destroys the socket, so a late reply never lands on a reused one. A request still
  // queued for a socket is aborted as soon as it gets one (onRequestStart).
  call.controller?.abort(new Error('deadline'));
}

/** One dispatch of a call (the first, or its one retry): undici's handler for it. */
class Attempt<T> implements Dispatcher.DispatchHandler {
  #status = 0;
  #responded = false;
  #size = 0;
  readonly #chunks: Buffer[] = [];

  constructor(
    private readonly call: Call<T>,
    private readonly mayRetry: boolean,
  ) {}

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.call.controller = c;
    this.call.started = true;
    if (this.call.done) c.abort(new Error('deadline'));
  }

  onResponseStart(
    c: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: the real reply follows
    this.#responded = true;
    this.#status = statusCode;
    const declared = Number(headers['content-length']);
    if (declared > MAX_REPLY_BYTES) {
      this.call.fail(
        'bad_response',
        `reply of ${declared} bytes exceeds ${MAX_REPLY_BYTES}`,
        statusCode,
      );
      c.abort(new Error('reply too large'));
    }
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > MAX_REPLY_BYTES) {
      this.call.fail('bad_response', `reply exceeds ${MAX_REPLY_BYTES} bytes`, this.#status);
      c.abort(new Error('reply too large'));
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    const text = Buffer.concat(this.#chunks, this.#size).toString('utf8');
    this.call.finish(classify(this.call.endpoint, this.#status, text));
  }

  onResponseError(_c: Dispatcher.DispatchController, err: NodeJS.ErrnoException): void {
    if (this.call.done) return;
    if (this.mayRetry && !this.#responded) {
      // Nothing was answered, and the operation has no side effect: try once more.
      this.call.send(false);
      return;
    }
    this.call.fail(
      'network',
      describeError(err),
      this.#responded ? this.#status : undefined,
      !this.call.started,
    );
  }
}

/**
 * Map a complete reply to a result. A body matching the structured shape is `ok` whatever the
 * status (CDP answers `settlement_pending` with HTTP 500), except that a 5xx from /verify is always
 * `unavailable`: a server error must not be read as a verdict on the payment.
 */
function classify<T>(endpoint: Endpoint<T>, status: number, text: string): FacilitatorResult<T> {
  const is2xx = status >= 200 && status < 300;
  if (endpoint.op === 'verify' && status >= 500) {
    return unavailable('http_error', detailOf(endpoint.op, status, text), status);
  }
  const value = endpoint.parse(parseJson(text));
  if (value !== undefined) return { kind: 'ok', value, status };
  const failure = is2xx ? 'bad_response' : 'http_error';
  return unavailable(failure, detailOf(endpoint.op, status, text), status);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function unavailable<T>(
  failure: FacilitatorFailure,
  detail: string,
  status?: number,
): FacilitatorResult<T> {
  const d = detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…` : detail;
  return status === undefined
    ? { kind: 'unavailable', failure, detail: d }
    : { kind: 'unavailable', failure, detail: d, status };
}

/** A failure before any byte of the request left. */
export function notSentResult<T>(
  failure: FacilitatorFailure,
  detail: string,
): FacilitatorResult<T> {
  return { kind: 'unavailable', failure, detail, notSent: true };
}

/** `op: HTTP 500: <compacted excerpt>`; the excerpt never carries the whole body. */
function detailOf(op: Op, status: number, text: string): string {
  const excerpt = text.slice(0, MAX_DETAIL_CHARS).replace(/\s+/g, ' ').trim();
  return `${op}: HTTP ${status}: ${excerpt === '' ? '(empty body)' : excerpt}`;
}

function describeError(err: NodeJS.ErrnoException): string {
  return err.code === undefined ? err.message : `${err.code} ${err.message}`;
}

/**
 * The JSON body of a request object, serialised once: the pipeline sends the same request object to
 * /verify and then /settle (and again on a settlement_pending retry), so it is stringified once.
 * Re-serialising (rather than forwarding the client's own JSON text) keeps one parse of the payload
 * authoritative: duplicate keys cannot mean one thing to us and another to the facilitator.
 *
 * The text is what `JSON.stringify(request)` gives for the builder's key order, but the
 * requirements' part is kept per requirements object: the same object serves every payment of an
 * offer, so only the payload is serialised per request. The ledger keeps this same text as the
 * record's request (one serialisation per payment, whichever facilitator is configured).
 */
const bodies = new WeakMap<FacilitatorRequest, string>();
const requirementTexts = new WeakMap<object, string>();
export function requestBody(request: FacilitatorRequest): string {
  let body = bodies.get(request);
  if (body === undefined) {
    const requirements = request.paymentRequirements;
    let requirementsText = requirementTexts.get(requirements);
    if (requirementsText === undefined) {
      requirementsText = JSON.stringify(requirements);
      requirementTexts.set(requirements, requirementsText);
    }
    body = `{"x402Version":${request.x402Version},"paymentPayload":${JSON.stringify(request.paymentPayload)},"paymentRequirements":${requirementsText}}`;
    bodies.set(request, body);
  }
  return body;
}
