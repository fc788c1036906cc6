/**
 * HttpFacilitatorClient's per-call headers (`requestHeaders`, e.g. CDP's JWT): minted for each
 * call's method and absolute URL, merged over the static headers; a failure to mint fails the call
 * without sending it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpFacilitatorClient, type RequestHeaders } from '../../../src/verify/facilitator.js';
import type { FacilitatorRequest } from '../../../src/verify/types.js';
import { exampleRequirementV2 } from '../../helpers/payments.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function stub(): Promise<{ url: string; seen: http.IncomingHttpHeaders[] }> {
  const seen: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(req.headers);
      const body = req.url?.includes('/supported')
        ? { kinds: [] }
        : req.url?.includes('/verify')
          ? { isValid: true, payer: '0x0000000000000000000000000000000000000001' }
          : { success: true, transaction: '0x01', network: 'eip155:84532', payer: '0x01' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`, seen };
}

function client(url: string, requestHeaders: RequestHeaders): HttpFacilitatorClient {
  const c = new HttpFacilitatorClient({
    url,
    verifyTimeoutMs: 1000,
    settleTimeoutMs: 1000,
    supportedTimeoutMs: 1000,
    headers: { 'x-static': 'kept', authorization: 'replaced' },
    maxSockets: 2,
    requestHeaders,
  });
  closers.push(() => c.close());
  return c;
}

const request = {
  x402Version: 2,
  paymentPayload: { x402Version: 2 },
  paymentRequirements: exampleRequirementV2(),
} as unknown as FacilitatorRequest;

describe('HttpFacilitatorClient requestHeaders', () => {
  it('mints per call, for that call method and URL, over the static headers', async () => {
    const s = await stub();
    const asked: string[] = [];
    let n = 0;
    const c = client(s.url, (method, url) => {
      asked.push(`${method} ${url}`);
      return Promise.resolve({ authorization: `Bearer t${++n}` });
    });
    await c.supported();
    await c.verify(request);
    await c.settle(request);
    expect(asked).toEqual([
      `GET ${s.url}/supported`,
      `POST ${s.url}/verify`,
      `POST ${s.url}/settle`,
    ]);
    expect(s.seen.map((h) => [h.authorization, h['x-static']])).toEqual([
      ['Bearer t1', 'kept'],
      ['Bearer t2', 'kept'],
      ['Bearer t3', 'kept'],
    ]);
  });

  it('fails the call, unsent, when the headers cannot be made', async () => {
    const s = await stub();
    const c = client(s.url, () => Promise.reject(new Error('cannot import the ES256 key')));
    const result = await c.verify(request);
    expect(result).toMatchObject({
      kind: 'unavailable',
      failure: 'network',
      detail: 'verify: request headers: cannot import the ES256 key',
    });
    expect(s.seen).toEqual([]);
  });
});
