/**
 * Issue 13 "Hardening", end to end: unpriced paths denied by default, method overrides, spoofed
 * payment facts in header spellings CGI reads as ours, ambiguous path spellings, malformed CORS
 * preflight headers on a kept-alive connection, and the upstream's origin in Location.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { rawRequest } from '../helpers/raw-http.js';

let byDefault: Harness; // no `unpriced` key: the default
let forwarding: Harness; // unpriced: forward, underscores allowed
beforeAll(async () => {
  [byDefault, forwarding] = await Promise.all([
    startHarness({ unpriced: null }),
    startHarness({ unpriced: 'forward', serverYaml: '  dropUnderscoreHeaders: false' }),
  ]);
});
afterAll(async () => {
  await Promise.all([byDefault.close(), forwarding.close()]);
});

function reason(body: string): unknown {
  return (JSON.parse(body) as { reason?: unknown }).reason;
}

describe('unpriced paths are denied by default', () => {
  it.each([
    ['GET', '/db'],
    ['GET', '/v1/quote.json'],
    ['POST', '/v1/quote'],
    ['DELETE', '/v1/items/7'],
  ])('%s %s → 404 not_found, nothing forwarded', async (method, path) => {
    const before = byDefault.upstream.calls.length;
    const res = await rawRequest(byDefault.url, { method, path });
    expect(res.status).toBe(404);
    expect(reason(res.body)).toBe('not_found');
    expect(byDefault.upstream.calls.length).toBe(before);
  });

  it('priced and free routes still answer', async () => {
    expect((await rawRequest(byDefault.url, { path: '/v1/quote' })).status).toBe(402);
    expect((await rawRequest(byDefault.url, { path: '/v1/health' })).status).toBe(200);
  });
});

describe('method overrides that would change the route are refused', () => {
  it.each([
    ['POST', '/v1/quote?_method=GET', {}],
    ['POST', '/v1/quote?x=1&_method=get', {}],
    ['POST', '/v1/quote?_%6Dethod=GET', {}],
    ['POST', '/v1/quote?%5F%4D%45%54%48%4F%44=GET', {}],
    ['POST', '/v1/quote', { 'x-http-method-override': 'GET' }],
    ['POST', '/v1/quote', { 'x-method-override': 'get' }],
    ['POST', '/v1/quote', { 'x-http-method': 'GET' }],
    ['GET', '/v1/health?_method=DELETE', {}],
    ['POST', '/v1/vision?_method=G%20ET', {}],
  ])('%s %s %j → 400 method_override', async (method, path, headers) => {
    for (const h of [forwarding, byDefault]) {
      const before = h.upstream.calls.length;
      const res = await rawRequest(h.url, { method, path, headers });
      expect(res.status).toBe(400);
      expect(reason(res.body)).toBe('method_override');
      expect(h.upstream.calls.length).toBe(before);
    }
  });

  it('an override that keeps the route goes through, without the override header', async () => {
    const res = await rawRequest(forwarding.url, {
      path: '/v1/health?_method=GET',
      headers: { 'x-http-method-override': 'GET' },
    });
    expect(res.status).toBe(200);
    const call = forwarding.upstream.calls.at(-1)!;
    expect(call.url).toBe('/v1/health?_method=GET');
    expect(call.headers['x-http-method-override']).toBeUndefined();
    // An any-method route: every override names the same route (and still pays).
    const any = await rawRequest(forwarding.url, {
      method: 'POST',
      path: '/v1/search/x?_method=PUT',
    });
    expect(any.status).toBe(402);
  });
});

describe('client headers never spell a fact the gateway vouches for', () => {
  const spoofed = {
    X_Payment_Payer: '0x0000000000000000000000000000000000000bad',
    X_Payment_Amount: '1000000',
    X_Payment_Network: 'eip155:8453',
    'X-Payment_Payer': '0xbad',
    X_Request_Id: 'forged',
    X_Forwarded_For: '6.6.6.6',
    X_Original_URL: '/admin',
    'X-Original-URI': '/admin',
    'X-Forwarded-Uri': '/admin',
    'X-Forwarded-Path': '/admin',
    'X-Envoy-Original-Path': '/admin',
    My_Header: 'ordinary',
  };
  const vouched =
    /^x[-_](payment|request[-_]id|forwarded[-_]for$|original|forwarded[-_](uri|path)|envoy)/i;

  it('dropped by default: every name with `_`, and the path hints', async () => {
    const before = byDefault.upstream.calls.length;
    expect((await rawRequest(byDefault.url, { path: '/v1/health', headers: spoofed })).status).toBe(
      200,
    );
    expect(byDefault.upstream.calls.length).toBe(before + 1);
    const seen = byDefault.upstream.calls.at(-1)!.headers;
    expect(Object.keys(seen).filter((n) => n.includes('_'))).toEqual([]);
    expect(Object.keys(seen).filter((n) => vouched.test(n) && n !== 'x-request-id')).toEqual([
      'x-forwarded-for',
    ]);
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen['x-request-id']).not.toBe('forged');
  });

  it('with dropUnderscoreHeaders: false, only the ordinary underscore header passes', async () => {
    await rawRequest(forwarding.url, { path: '/v1/health', headers: spoofed });
    const seen = forwarding.upstream.calls.at(-1)!.headers;
    expect(Object.keys(seen).filter((n) => n.includes('_'))).toEqual(['my_header']);
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
  });
});

describe('ambiguous path spellings are refused on every route', () => {
  const paths = [
    '/v1/quote%20',
    '/v1/quote%09',
    '/v1/quote%0A',
    '/v1/quote%0D%0A',
    '/v1%20/quote',
    '/v1/quote%E2%80%8B',
    '/v1/quote%EF%BB%BF',
    '/v1/%2570',
    '/db%00',
    '/v1/health%20',
    '/v1/items/7%C2%A0',
    '/v1/search/a%E2%80%AEb',
  ];
  it.each(paths)('%s → 400 invalid_path, nothing forwarded', async (path) => {
    for (const h of [forwarding, byDefault]) {
      const before = h.upstream.calls.length;
      const res = await rawRequest(h.url, { path });
      expect(res.status).toBe(400);
      expect(reason(res.body)).toBe('invalid_path');
      expect(h.upstream.calls.length).toBe(before);
    }
  });
});

/** Send `bytes` on one connection and collect everything until the server is quiet or closes. */
async function exchange(url: string, bytes: Buffer): Promise<{ data: string; closed: boolean }> {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) =>
    socket.on('close', () => {
      closed = true;
      resolve();
    }),
  );
  socket.write(bytes);
  await Promise.race([ended, new Promise((r) => setTimeout(r, 400))]);
  socket.destroy();
  return { data: Buffer.concat(chunks).toString('latin1'), closed };
}

/** Split pipelined responses by their framing (Content-Length or chunked); throws on garbage. */
function parseResponses(data: string): { status: number; body: string }[] {
  const out: { status: number; body: string }[] = [];
  let rest = data;
  while (rest !== '') {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`truncated response: ${JSON.stringify(rest)}`);
    const head = rest.slice(0, end);
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(head);
    if (m === null) throw new Error(`not a status line: ${JSON.stringify(head.slice(0, 60))}`);
    rest = rest.slice(end + 4);
    const length = /\r\ncontent-length: (\d+)/i.exec(head);
    let body = '';
    if (length !== null) {
      body = rest.slice(0, Number(length[1]));
      if (body.length !== Number(length[1])) throw new Error('body shorter than its length');
      rest = rest.slice(body.length);
    } else if (/\r\ntransfer-encoding: chunked/i.test(head)) {
      for (;;) {
        const nl = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, nl), 16);
        body += rest.slice(nl + 2, nl + 2 + size);
        rest = rest.slice(nl + 2 + size + 2);
        if (size === 0) break;
      }
    }
    out.push({ status: Number(m[1]), body });
  }
  return out;
}

describe('malformed CORS preflight headers get a clean 400 on a kept-alive connection', () => {
  const good = 'GET /v1/health HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n';
  it.each([
    ['Access-Control-Request-Method', 'GET\xb5'],
    ['Access-Control-Request-Method', 'G(ET'],
    ['Access-Control-Request-Method', '\xff'],
    ['Access-Control-Request-Headers', 'content-type, x-\xb5'],
    ['Access-Control-Request-Headers', 'a b'],
    ['Origin', 'https://\xe9xample.com'],
  ])('%s: %j, then a good pipelined request', async (name, value) => {
    const origin = name === 'Origin' ? '' : 'Origin: https://app.example\r\n';
    const acrm =
      name === 'Access-Control-Request-Method' ? '' : 'Access-Control-Request-Method: GET\r\n';
    const bad = Buffer.concat([
      Buffer.from(`OPTIONS /v1/search/x HTTP/1.1\r\nHost: gw\r\n${origin}${acrm}${name}: `),
      Buffer.from(value, 'latin1'),
      Buffer.from('\r\n\r\n'),
    ]);
    const { data } = await exchange(forwarding.url, Buffer.concat([bad, Buffer.from(good)]));
    const responses = parseResponses(data);
    expect(responses.map((r) => r.status)).toEqual([400, 200]);
    expect(reason(responses[0]!.body)).toBe('invalid_header');
    expect(JSON.parse(responses[1]!.body)).toMatchObject({ ok: true, url: '/v1/health' });
  });

  it('a well-formed preflight still gets its 204', async () => {
    const res = await rawRequest(forwarding.url, {
      method: 'OPTIONS',
      path: '/v1/search/x',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'get',
        'access-control-request-headers': 'content-type, payment-signature',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-methods']).toBe('GET, OPTIONS');
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
  });
});

describe("the upstream's origin never reaches the client", () => {
  it('Location and Content-Location name the public origin', async () => {
    const res = await rawRequest(forwarding.url, {
      path: '/v1/redirect',
      headers: { host: 'pay.example.com' },
    });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('http://pay.example.com/v1/items/7?from=redirect');
    expect(res.headers['content-location']).toBe('http://pay.example.com/v1/redirect.json');
  });
});
