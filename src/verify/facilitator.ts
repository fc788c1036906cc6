/**
 * HTTP client of a remote facilitator (x402-protocol.md §7): POST /verify, POST /settle and
 * GET /supported.
 *
 * Built on `node:http(s).request` with a dedicated keep-alive agent, not the global `fetch`,
 * which costs about 400 µs more CPU per call (perf-notes.md). Every operation has a hard deadline
 * covering connect, request and the whole reply body; on expiry the request is aborted and its
 * socket destroyed. Replies are capped in size and parsed with zod. Expected failures come back
 * as values, never as throws.
 */
import http from 'node:http';
import https from 'node:https';
import type { SettleResponse, VerifyResponse } from '../x402/types.js';
import { parseSettleReply, parseSupportedReply, parseVerifyReply } from './replies.js';
import type {
  FacilitatorClient,
  FacilitatorFailure,
  FacilitatorRequest,
  FacilitatorResult,
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
}

/** Replies larger than this are refused (`bad_response`) and the socket is dropped. */
export const MAX_REPLY_BYTES = 64 * 1024;

/** Longest `detail` string, in characters. */
const MAX_DETAIL_CHARS = 200;

/**
 * Idle keep-alive sockets are closed after this long, below the 5 s default keep-alive timeout of
 * Node servers, so we rarely write into a socket the server is closing.
 */
const IDLE_SOCKET_TIMEOUT_MS = 4000;

type Op = 'verify' | 'settle' | 'supported';

interface Endpoint<T> {
  readonly op: Op;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly timeoutMs: number;
  readonly parse: (json: unknown) => T | undefined;
  /**
   * Whether a reset of a reused keep-alive socket before any reply may be retried once (within the
   * same deadline). Never for settle: the answer to a second settle of the same payload could be
   * misread (nonce already used).
   */
  readonly retryOnStaleSocket: boolean;
}

/** Facilitator client over HTTP(S) with a keep-alive pool and per-operation deadlines. */
export class HttpFacilitatorClient implements FacilitatorClient {
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;
  readonly #hostname: string;
  readonly #port: number | undefined;
  readonly #auth: string | undefined;
  readonly #getHeaders: Readonly<Record<string, string>>;
  readonly #postHeaders: Readonly<Record<string, string>>;
  readonly #verify: Endpoint<VerifyResponse>;
  readonly #settle: Endpoint<SettleResponse>;
  readonly #supported: Endpoint<SupportedResponse>;

  constructor(options: HttpFacilitatorOptions) {
    const url = new URL(options.url.replace(/\/+$/, ''));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`facilitator url must be http(s): ${options.url}`);
    }
    const secure = url.protocol === 'https:';
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: options.maxSockets,
      scheduling: 'lifo',
      timeout: IDLE_SOCKET_TIMEOUT_MS,
    };
    this.#agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.#request = secure ? https.request : http.request;
    // URL keeps IPv6 literals in brackets; http.request wants them bare.
    this.#hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.#port = url.port === '' ? undefined : Number(url.port);
    this.#auth =
      url.username === ''
        ? undefined
        : `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;

    // Bad static headers are a configuration bug: fail here, not on every call.
    for (const [name, value] of Object.entries(options.headers)) {
      http.validateHeaderName(name);
      http.validateHeaderValue(name, value);
    }
    const base = url.pathname.replace(/\/+$/, '');
    const query = url.search;
    this.#getHeaders = Object.freeze({ accept: 'application/json', ...options.headers });
    this.#postHeaders = Object.freeze({
      accept: 'application/json',
      'content-type': 'application/json',
      ...options.headers,
    });
    this.#verify = {
      op: 'verify',
      method: 'POST',
      path: `${base}/verify${query}`,
      timeoutMs: options.verifyTimeoutMs,
      parse: parseVerifyReply,
      retryOnStaleSocket: true,
    };
    this.#settle = {
      op: 'settle',
      method: 'POST',
      path: `${base}/settle${query}`,
      timeoutMs: options.settleTimeoutMs,
      parse: parseSettleReply,
      retryOnStaleSocket: false,
    };
    this.#supported = {
      op: 'supported',
      method: 'GET',
      path: `${base}/supported${query}`,
      timeoutMs: options.supportedTimeoutMs,
      parse: parseSupportedReply,
      retryOnStaleSocket: true,
    };
  }

  verify(request: FacilitatorRequest): Promise<FacilitatorResult<VerifyResponse>> {
    return this.#call(this.#verify, serialize(request));
  }

  settle(request: FacilitatorRequest): Promise<FacilitatorResult<SettleResponse>> {
    return this.#call(this.#settle, serialize(request));
  }

  supported(): Promise<FacilitatorResult<SupportedResponse>> {
    return this.#call(this.#supported, undefined);
  }

  close(): Promise<void> {
    this.#agent.destroy();
    return Promise.resolve();
  }

  #call<T>(endpoint: Endpoint<T>, body: string | undefined): Promise<FacilitatorResult<T>> {
    const headers =
      body === undefined
        ? this.#getHeaders
        : { ...this.#postHeaders, 'content-length': String(Buffer.byteLength(body)) };
    return new Promise((resolve) => {
      let done = false;
      let current: http.ClientRequest | undefined;
      const finish = (result: FacilitatorResult<T>): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(result);
      };
      const fail = (failure: FacilitatorFailure, detail: string, status?: number): void => {
        finish(unavailable(failure, `${endpoint.op}: ${detail}`, status));
      };

      const timer = setTimeout(() => {
        fail('timeout', `no complete reply within ${endpoint.timeoutMs} ms`);
        // Destroying the request destroys its socket: a late reply never lands on a reused one.
        current?.destroy();
      }, endpoint.timeoutMs);

      const send = (mayRetry: boolean): void => {
        let responded = false;
        const req = this.#request(
          {
            agent: this.#agent,
            hostname: this.#hostname,
            port: this.#port,
            auth: this.#auth,
            method: endpoint.method,
            path: endpoint.path,
            headers,
          },
          (res) => {
            responded = true;
            const status = res.statusCode ?? 0;
            const declared = Number(res.headers['content-length']);
            if (declared > MAX_REPLY_BYTES) {
              fail('bad_response', `reply of ${declared} bytes exceeds ${MAX_REPLY_BYTES}`, status);
              req.destroy();
              return;
            }
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > MAX_REPLY_BYTES) {
                fail('bad_response', `reply exceeds ${MAX_REPLY_BYTES} bytes`, status);
                req.destroy();
                return;
              }
              chunks.push(chunk);
            });
            res.on('end', () => {
              finish(classify(endpoint, status, Buffer.concat(chunks, size).toString('utf8')));
            });
            res.on('error', (err) => fail('network', describeError(err), status));
            res.on('close', () => {
              if (!res.complete) {
                fail('network', 'connection closed before the reply ended', status);
              }
            });
          },
        );
        current = req;
        req.on('error', (err: NodeJS.ErrnoException) => {
          if (done) return;
          if (
            mayRetry &&
            !responded &&
            req.reusedSocket &&
            (err.code === 'ECONNRESET' || err.code === 'EPIPE')
          ) {
            // The server closed an idle keep-alive socket as we wrote to it: nothing was processed.
            send(false);
            return;
          }
          fail('network', describeError(err));
        });
        req.end(body);
      };
      send(endpoint.retryOnStaleSocket);
    });
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
  const d =
    detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…` : detail;
  return status === undefined
    ? { kind: 'unavailable', failure, detail: d }
    : { kind: 'unavailable', failure, detail: d, status };
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
 */
const bodies = new WeakMap<FacilitatorRequest, string>();
function serialize(request: FacilitatorRequest): string {
  let body = bodies.get(request);
  if (body === undefined) {
    body = JSON.stringify(request);
    bodies.set(request, body);
  }
  return body;
}
