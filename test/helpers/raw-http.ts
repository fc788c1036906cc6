/**
 * HTTP as a test client speaks it: a request whose path goes out byte for byte, and the decoder of
 * the base64 JSON payment headers (PAYMENT-REQUIRED, PAYMENT-RESPONSE, …).
 */
import http from 'node:http';

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A request with the path sent byte for byte (fetch would normalise `..`, `\\` and `//`). */
export function rawRequest(
  base: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string;
    /** Connect from this loopback address (another client as far as the gateway can tell). */
    localAddress?: string;
  },
): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        agent: false,
        timeout: 10_000,
        localAddress: options.localAddress,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('test request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Decode a base64 JSON header. */
export function decodeHeader(value: string | string[] | undefined): Record<string, unknown> {
  if (typeof value !== 'string') throw new Error(`header missing: ${String(value)}`);
  return JSON.parse(Buffer.from(value, 'base64').toString('utf8')) as Record<string, unknown>;
}
