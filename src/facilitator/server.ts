/**
 * HTTP face of a FacilitatorClient (docs/protocol.md §7): POST /verify, POST /settle, GET /supported, plus
 * GET /healthz. JSON in/out, node:http only, so other gateways and the official middlewares
 * (@x402/core HTTPFacilitatorClient, x402-express v1) can use the built-in facilitator.
 *
 * Status codes:
 * - 200: every structured answer, positive or negative (`isValid:false`, `success:false`, incl.
 *   `settlement_pending`), so clients never mistake a refusal for a transport error;
 * - 400 `{error, detail}`: body not JSON, not an object, unknown x402Version, missing
 *   paymentPayload/paymentRequirements; 413 past the body cap; 415 non-JSON content type;
 * - 503 `{error:"facilitator_unavailable"}` when the facilitator could not reach its chain;
 * - 404 / 405 for other paths / methods.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FacilitatorClient, FacilitatorRequest, FacilitatorResult } from '../verify/index.js';
import { listenError } from '../lib/index.js';
import { envelopeProblem } from './validate.js';

export interface FacilitatorServerOptions {
  readonly facilitator: FacilitatorClient;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 = pick a free port. */
  readonly port: number;
  /** Request body cap in bytes. Default 64 KiB (a payload is ~1 KiB). */
  readonly maxBodyBytes?: number;
  /** Whole-request deadline (headers + body), ms. Default 30 000. */
  readonly requestTimeoutMs?: number;
}

export interface FacilitatorServer {
  /** Base URL, e.g. `http://127.0.0.1:4021` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Stop accepting, close idle keep-alive sockets, wait for in-flight requests. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly detail?: string,
  ) {
    super(error);
  }
}

function readBody(req: http.IncomingMessage, cap: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > cap) {
      reject(new HttpError(413, 'body_too_large', `cap is ${cap} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        reject(new HttpError(413, 'body_too_large', `cap is ${cap} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function reply<T>(res: http.ServerResponse, result: FacilitatorResult<T>): void {
  if (result.kind === 'ok') send(res, 200, result.value);
  else
    send(res, 503, {
      error: 'facilitator_unavailable',
      failure: result.failure,
      detail: result.detail,
    });
}

export function startFacilitatorServer(
  options: FacilitatorServerOptions,
): Promise<FacilitatorServer> {
  const { facilitator } = options;
  const cap = options.maxBodyBytes ?? 64 * 1024;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    if (path === '/supported' || path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        throw new HttpError(405, 'method_not_allowed');
      if (path === '/healthz') return send(res, 200, { ok: true });
      return reply(res, await facilitator.supported());
    }
    if (path !== '/verify' && path !== '/settle') throw new HttpError(404, 'not_found');
    if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed');
    const type = String(req.headers['content-type'] ?? 'application/json').toLowerCase();
    if (!type.includes('json'))
      throw new HttpError(415, 'unsupported_media_type', 'send application/json');
    const text = await readBody(req, cap);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, 'invalid_json', (err as Error).message.slice(0, 200));
    }
    const problem = envelopeProblem(body);
    if (problem !== undefined) throw new HttpError(400, 'invalid_request', problem);
    const request = body as FacilitatorRequest;
    if (path === '/verify') return reply(res, await facilitator.verify(request));
    return reply(res, await facilitator.settle(request));
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        if (err.status === 413) res.setHeader('connection', 'close');
        send(
          res,
          err.status,
          err.detail ? { error: err.error, detail: err.detail } : { error: err.error },
        );
      } else {
        send(res, 500, { error: 'internal_error' });
      }
    });
  });
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.headersTimeout = Math.min(server.requestTimeout, 10_000);
  server.keepAliveTimeout = 5_000;

  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const failed = (err: unknown): void =>
      reject(listenError(err, host, options.port, 'the facilitator, --port/--host'));
    server.once('error', failed);
    server.listen(options.port, host, () => {
      server.off('error', failed);
      const addr = server.address() as AddressInfo;
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        url: `http://${host}:${addr.port}`,
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
  });
}
