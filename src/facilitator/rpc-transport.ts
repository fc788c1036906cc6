/**
 * viem transport for JSON-RPC over node:http(s) with a keep-alive agent and a per-call deadline.
 *
 * Why not viem's `http()`: it goes through the global fetch, which costs ~400 µs more CPU per call
 * than a keep-alive `http.request` (docs/performance.md §3), and a settlement makes 5–8 RPC calls.
 * Errors are thrown as viem's own classes (HttpRequestError, TimeoutError, RpcRequestError) so the
 * rest of viem maps them exactly as it would for `http()`.
 */
import http from 'node:http';
import https from 'node:https';
import { custom, HttpRequestError, RpcRequestError, TimeoutError, type Transport } from 'viem';

export interface KeepAliveTransportOptions {
  /** Deadline of one JSON-RPC call, ms. Default 10 000. */
  readonly timeoutMs?: number;
  /** Max sockets to the RPC host. Default 32. */
  readonly maxSockets?: number;
  /** Cap on one response body. Default 32 MiB. */
  readonly maxResponseBytes?: number;
}

export interface KeepAliveTransport {
  readonly transport: Transport;
  /** Destroy pooled sockets. */
  close(): void;
}

interface JsonRpcResponse {
  readonly result?: unknown;
  readonly error?: { code: number; message: string; data?: unknown };
}

export function createKeepAliveTransport(
  rpcUrl: string,
  options: KeepAliveTransportOptions = {},
): KeepAliveTransport {
  const url = new URL(rpcUrl);
  const isHttps = url.protocol === 'https:';
  if (!isHttps && url.protocol !== 'http:')
    throw new Error(`unsupported RPC URL protocol ${url.protocol}`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxResponseBytes ?? 32 * 1024 * 1024;
  const agentOpts = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? 32,
    keepAliveMsecs: 1_000,
  };
  const agent = isHttps ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
  const requestFn = isHttps ? https.request : http.request;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (url.username || url.password) {
    headers['authorization'] =
      'Basic ' +
      Buffer.from(
        `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
      ).toString('base64');
  }
  // URL without credentials, for error messages.
  const target = `${url.protocol}//${url.host}${url.pathname}${url.search}`;
  let nextId = 1;

  function post(body: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = requestFn(
        target,
        {
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              req.destroy(new Error(`RPC response larger than ${maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      const timer = setTimeout(
        () =>
          req.destroy(
            new TimeoutError({ body: JSON.parse(body) as Record<string, unknown>, url: target }),
          ),
        timeoutMs,
      );
      req.on('close', () => clearTimeout(timer));
      req.on('timeout', () =>
        req.destroy(
          new TimeoutError({ body: JSON.parse(body) as Record<string, unknown>, url: target }),
        ),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const transport = custom(
    {
      async request({ method, params }: { method: string; params?: unknown }) {
        const payload = { jsonrpc: '2.0', id: nextId++, method, params: params ?? [] };
        const body = JSON.stringify(payload);
        let res: { status: number; text: string };
        try {
          res = await post(body);
        } catch (err) {
          if (err instanceof TimeoutError) throw err;
          throw new HttpRequestError({
            url: target,
            body: payload,
            details: err instanceof Error ? err.message : String(err),
            cause: err instanceof Error ? err : undefined,
          });
        }
        let parsed: JsonRpcResponse | undefined;
        try {
          parsed = JSON.parse(res.text) as JsonRpcResponse;
        } catch {
          parsed = undefined;
        }
        if (
          res.status < 200 ||
          res.status >= 300 ||
          parsed === undefined ||
          typeof parsed !== 'object'
        ) {
          throw new HttpRequestError({
            url: target,
            body: payload,
            status: res.status,
            details: res.text.slice(0, 200),
          });
        }
        if (parsed.error)
          throw new RpcRequestError({ body: payload, error: parsed.error, url: target });
        return parsed.result;
      },
    },
    { retryCount: 0, key: 'keepAliveHttp', name: 'Keep-alive HTTP JSON-RPC' },
  );
  return { transport, close: () => agent.destroy() };
}
