/**
 * Several upstreams: routes go to a named upstream, over http and https (a private CA made here),
 * with headers added (which no client can replace) and removed, a path rewrite the Location undoes,
 * and paid routes served end to end from a named upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { decodeHeader, rawRequest } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';
import { testAccount } from '../helpers/payments.js';
import { makeTestCerts, type TestCerts } from '../helpers/tls-certs.js';
import { startTestUpstream, type TestUpstream } from '../helpers/upstream.js';

let certs: TestCerts;
let second: TestUpstream;
let secure: TestUpstream;
let h: Harness;

beforeAll(async () => {
  certs = makeTestCerts();
  second = await startTestUpstream();
  secure = await startTestUpstream({ tls: { key: certs.serverKey, cert: certs.serverCert } });
  h = await startHarness({
    extraYaml: `
upstreams:
  second:
    url: ${second.url}
    connections: 8
    headers: { X-Api-Key: "second-secret-key" }
    removeHeaders: [cookie]
  secure:
    url: ${secure.url}
    tls: { ca: ${certs.caFile} }
    headers: { authorization: "Bearer secure-token" }
  untrusted:
    url: ${secure.url}
`,
    routesYaml: `
routes:
  "GET /v1/quote": "$0.001"
  "GET /v1/health": 0
  "GET /second/items/:id":
    price: 0
    upstream: second
    rewrite: { prefix: /second, replace: /v1 }
  "GET /second/redirect":
    price: 0
    upstream: second
    rewrite: { prefix: /second, replace: /v1 }
  "GET /strip/*":
    price: 0
    upstream: second
    rewrite: { prefix: /strip }
  "GET /paid2/quote":
    price: "$0.001"
    upstream: second
    rewrite: { prefix: /paid2, replace: /v1 }
  "GET /secure/*":
    price: 0
    upstream: secure
    rewrite: { prefix: /secure, replace: /v1 }
  "GET /secure-paid/quote":
    price: "$0.001"
    upstream: secure
    rewrite: { prefix: /secure-paid, replace: /v1 }
  "GET /untrusted/*":
    price: 0
    upstream: untrusted
    rewrite: { prefix: /untrusted, replace: /v1 }
`,
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await Promise.all([second?.close(), secure?.close()]);
  certs?.remove();
});

describe('routes choose their upstream by name', () => {
  it('the default upstream serves routes that name none; a named one serves its routes', async () => {
    const before = { main: h.upstream.calls.length, second: second.calls.length };
    const a = await rawRequest(h.url, { path: '/v1/health' });
    const b = await rawRequest(h.url, { path: '/second/items/7?x=1' });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(h.upstream.calls.length).toBe(before.main + 1);
    expect(second.calls.length).toBe(before.second + 1);
    expect(h.upstream.calls.at(-1)!.url).toBe('/v1/health');
    // The rewrite: /second → /v1, the query kept as sent.
    expect(second.calls.at(-1)!.url).toBe('/v1/items/7?x=1');
    expect(JSON.parse(b.body)).toMatchObject({ url: '/v1/items/7?x=1' });
  });

  it('a stripped prefix: /strip/v1/items/9 reaches the upstream as /v1/items/9', async () => {
    const res = await rawRequest(h.url, { path: '/strip/v1/items/9' });
    expect(res.status).toBe(200);
    expect(second.calls.at(-1)!.url).toBe('/v1/items/9');
  });
});

describe('headers per upstream', () => {
  it('adds the upstream key, and a client cannot replace or inject its own', async () => {
    const res = await rawRequest(h.url, {
      path: '/second/items/1',
      headers: { 'x-api-key': 'client-forged', 'X-API-KEY': 'again' },
    });
    expect(res.status).toBe(200);
    const seen = second.calls.at(-1)!;
    expect(seen.headers['x-api-key']).toBe('second-secret-key');
    // Not sent to the default upstream, and the client's value never reaches it either way.
    await rawRequest(h.url, { path: '/v1/health', headers: { 'x-api-key': 'client-own' } });
    expect(h.upstream.calls.at(-1)!.headers['x-api-key']).toBe('client-own');
  });

  it('removes the named client headers (only on that upstream)', async () => {
    await rawRequest(h.url, { path: '/second/items/2', headers: { cookie: 'session=abc' } });
    expect(second.calls.at(-1)!.headers.cookie).toBeUndefined();
    await rawRequest(h.url, { path: '/v1/health', headers: { cookie: 'session=abc' } });
    expect(h.upstream.calls.at(-1)!.headers.cookie).toBe('session=abc');
  });

  it('never writes an added header value to the log or the readiness body', async () => {
    const ready = await (await fetch(`${h.gateway.adminUrl}/readyz`)).text();
    expect(ready).not.toContain('second-secret-key');
    expect(ready).not.toContain('secure-token');
  });
});

describe('Location undoes the rewrite', () => {
  it('a redirect from the upstream names the client path, on the gateway', async () => {
    const res = await rawRequest(h.url, { path: '/second/redirect' });
    expect(res.status).toBe(302);
    expect(second.calls.at(-1)!.url).toBe('/v1/redirect');
    expect(res.headers.location).toBe(`${h.url}/second/items/7?from=redirect`);
  });

  it('a stripped prefix is put back in front', async () => {
    const res = await rawRequest(h.url, { path: '/strip/v1/redirect' });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${h.url}/strip/v1/items/7?from=redirect`);
    expect(res.headers['content-location']).toBe(`${h.url}/strip/v1/redirect.json`);
  });
});

describe('https upstreams', () => {
  it('with the private CA configured: served, the request sent over TLS', async () => {
    const res = await rawRequest(h.url, { path: '/secure/items/3' });
    expect(res.status).toBe(200);
    expect(secure.calls.at(-1)!.url).toBe('/v1/items/3');
    expect(secure.calls.at(-1)!.headers.authorization).toBe('Bearer secure-token');
  });

  it('without it: the certificate is refused, the client gets 502 upstream_unavailable', async () => {
    const calls = secure.calls.length;
    const res = await rawRequest(h.url, { path: '/untrusted/items/3' });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'upstream_unavailable' });
    expect(secure.calls.length).toBe(calls); // nothing reached it: the handshake failed first
    // The gateway still serves (no crash).
    expect((await rawRequest(h.url, { path: '/v1/health' })).status).toBe(200);
  });
});

describe('paid routes on a named upstream', () => {
  it('http: 402, then paid and served from the named upstream with its key and the payer', async () => {
    const challenge = await rawRequest(h.url, { path: '/paid2/quote' });
    expect(challenge.status).toBe(402);
    const payment = await signFor(h.url, '/paid2/quote', { version: 2, account: testAccount(2) });
    const res = await payWith(h.url, '/paid2/quote', payment);
    expect(res.status).toBe(200);
    expect(decodeHeader(res.headers['payment-response'])).toMatchObject({ success: true });
    const seen = second.calls.at(-1)!;
    expect(seen.url).toBe('/v1/quote');
    expect(seen.headers['x-api-key']).toBe('second-secret-key');
    expect(seen.headers['x-payment-payer']).toBe(testAccount(2).address);
  });

  it('https: paid and served through the private CA', async () => {
    const payment = await signFor(h.url, '/secure-paid/quote', { version: 2 });
    const res = await payWith(h.url, '/secure-paid/quote', payment);
    expect(res.status).toBe(200);
    expect(secure.calls.at(-1)!.url).toBe('/v1/quote');
    expect(decodeHeader(res.headers['payment-response'])).toMatchObject({ success: true });
  });
});

describe('reloading', () => {
  it("moves a route to another upstream and changes its rewrite; upstreams' own keys wait for a restart", async () => {
    const moved = h.yaml
      .replace(
        `  "GET /second/items/:id":
    price: 0
    upstream: second`,
        `  "GET /second/items/:id":
    price: 0
    upstream: secure`,
      )
      .replace('second-secret-key', 'rotated-key');
    const report = h.reload(moved);
    expect(report).toMatchObject({ ok: true, refused: ['upstreams'] });
    const calls = secure.calls.length;
    expect((await rawRequest(h.url, { path: '/second/items/5' })).status).toBe(200);
    expect(secure.calls.length).toBe(calls + 1);
    expect(secure.calls.at(-1)!.url).toBe('/v1/items/5');
    // The running key stays until a restart.
    await rawRequest(h.url, { path: '/paid2/quote' });
    expect((await rawRequest(h.url, { path: '/strip/v1/items/1' })).status).toBe(200);
    expect(second.calls.at(-1)!.headers['x-api-key']).toBe('second-secret-key');
    expect(h.reload(h.yaml)).toMatchObject({ ok: true });
  });

  it('a route naming an upstream this process does not run fails the reload whole', async () => {
    const added = h.yaml
      .replace('upstreams:\n', `upstreams:\n  newcomer:\n    url: ${second.url}\n`)
      .replace('"GET /v1/health": 0', '"GET /v1/health": { price: 0, upstream: newcomer }');
    const report = h.reload(added);
    expect(report.ok).toBe(false);
    if (report.ok) return;
    expect(report.problems.map((p) => p.message).join('\n')).toContain('newcomer');
    // The running config stays: /v1/health still goes to the default upstream.
    const before = h.upstream.calls.length;
    expect((await rawRequest(h.url, { path: '/v1/health' })).status).toBe(200);
    expect(h.upstream.calls.length).toBe(before + 1);
  });
});
