/**
 * The response side of forwarding, which the pipeline owns (it settles before the client sees a
 * byte): status, headers minus hop-by-hop ones, and no upstream-forged payment headers.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { namedByConnection } from './connection-header.js';

const DROP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Only the gateway speaks x402 to the client: an upstream must not forge a settlement receipt.
  'payment-response',
  'x-payment-response',
  'payment-required',
]);

/**
 * Headers to send the client for an upstream response. Node re-frames the body itself
 * (chunked or Content-Length), so framing headers from the upstream are dropped.
 */
export function responseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const named = namedByConnection(headers.connection);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || DROP.has(name) || named?.has(name) === true) continue;
    out[name] = value;
  }
  return out;
}
