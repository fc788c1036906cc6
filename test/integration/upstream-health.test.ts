/**
 * Don't ask for money you can't serve: while a route's upstream is down its priced routes answer
 * 503 upstream_down with Retry-After instead of 402, no new payment is verified, a retry the
 * ledger holds is still answered from its record, and the upstream coming back brings 402s and
 * paid 200s back. Real loopback upstreams, stopped and restarted on their port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { rawRequest } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';
import { testAccount } from '../helpers/payments.js';
import { startTestUpstream, type TestUpstream } from '../helpers/upstream.js';

let api: TestUpstream;
let apiPort: number;
let flaky: TestUpstream;
let h: Harness;

beforeAll(async () => {
  api = await startTestUpstream();
  apiPort = Number(new URL(api.url).port);
  flaky = await startTestUpstream();
  h = await startHarness({
    serverYaml: '  trustProxy: true',
    extraYaml: `
upstreams:
  api:
    url: ${api.url}
    health: { failures: 2, retryAfterSeconds: 1, intervalMs: 150, timeoutMs: 300 }
  flaky:
    url: ${flaky.url}
    health: { count5xx: true, minClients: 2, failures: 3, intervalMs: 60000 }
  checked:
    url: ${flaky.url}
    health: { count5xx: true, minClients: 2, failures: 2, path: /v1/health, intervalMs: 60000 }
  broken:
    url: ${flaky.url}
    health: { path: /v1/fail, failures: 2, intervalMs: 100, timeoutMs: 300 }
`,
    routesYaml: `
routes:
  "GET /v1/quote": "$0.001"
  "GET /api/quote":
    price: "$0.001"
    upstream: api
    rewrite: { prefix: /api, replace: /v1 }
  "GET /api/health":
    price: 0
    upstream: api
    rewrite: { prefix: /api, replace: /v1 }
  "GET /flaky/quote":
    price: "$0.001"
    upstream: flaky
    rewrite: { prefix: /flaky, replace: /v1 }
  "GET /flaky/fail":
    price: 0
    upstream: flaky
    rewrite: { prefix: /flaky, replace: /v1 }
  "GET /flaky/items/:id":
    price: 0
    upstream: flaky
    rewrite: { prefix: /flaky, replace: /v1 }
  "GET /checked/quote":
    price: "$0.001"
    upstream: checked
    rewrite: { prefix: /checked, replace: /v1 }
  "GET /checked/fail":
    price: 0
    upstream: checked
    rewrite: { prefix: /checked, replace: /v1 }
  "GET /broken/quote":
    price: "$0.001"
    upstream: broken
    rewrite: { prefix: /broken, replace: /v1 }
`,
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await Promise.all([api?.close(), flaky?.close()]);
});

async function readyz(): Promise<{
  paid: { ok: boolean; reasons: string[] };
  checks: Record<string, { ok: boolean; detail: string }>;
}> {
  return (await (await fetch(`${h.gateway.adminUrl}/readyz`)).json()) as never;
}

async function metric(line: string): Promise<string | undefined> {
  const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
  return text.split('\n').find((l) => l.startsWith(line));
}

describe('an upstream that stops', () => {
  it('gets 503 upstream_down instead of 402 within the window, then 402s and paid 200s once back', async () => {
    expect((await rawRequest(h.url, { path: '/api/quote' })).status).toBe(402);
    // Signed while up (signing reads the 402); presented while down.
    const early = await signFor(h.url, '/api/quote', { version: 2, account: testAccount(0) });
    const verifies = h.facilitator.calls.verify;

    await api.close();
    const down = Date.now();
    await expect
      .poll(async () => (await rawRequest(h.url, { path: '/api/quote' })).status, {
        timeout: 3_000,
        interval: 50,
      })
      .toBe(503);
    expect(Date.now() - down).toBeLessThan(3_000);
    const res = await rawRequest(h.url, { path: '/api/quote' });
    expect(res.headers['retry-after']).toBe('1');
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'upstream_down' });
    expect(res.headers['payment-required']).toBeUndefined();

    // A new payment is neither verified nor claimed: the same one pays once the upstream is back.
    const paidWhileDown = await payWith(h.url, '/api/quote', early);
    expect(paidWhileDown.status).toBe(503);
    expect(JSON.parse(paidWhileDown.body)).toMatchObject({ reason: 'upstream_down' });
    expect(h.facilitator.calls.verify).toBe(verifies);

    // Other upstreams' routes are untouched.
    expect((await rawRequest(h.url, { path: '/v1/quote' })).status).toBe(402);
    const ready = await readyz();
    expect(ready.checks['upstream api']).toMatchObject({ ok: false });
    expect(ready.checks['upstream api']!.detail).toContain('upstream_down');
    expect(ready.checks.upstream).toMatchObject({ ok: true });
    expect(await metric('x402_gateway_upstream_up{upstream="api"}')).toMatch(/ 0$/);
    expect(await metric('x402_gateway_upstream_up{upstream="default"}')).toMatch(/ 1$/);

    // Back on the same port: half-open after Retry-After (1 s), then 402 and a paid 200.
    api = await startTestUpstream({ port: apiPort });
    await expect
      .poll(async () => (await rawRequest(h.url, { path: '/api/quote' })).status, {
        timeout: 5_000,
        interval: 100,
      })
      .toBe(402);
    const paid = await payWith(h.url, '/api/quote', early);
    expect(paid.status).toBe(200);
    expect(api.calls.at(-1)!.url).toBe('/v1/quote');
    expect(await metric('x402_gateway_upstream_up{upstream="api"}')).toMatch(/ 1$/);
    expect(
      await metric('x402_gateway_upstream_state_changes_total{upstream="api",state="down"}'),
    ).toMatch(/ 1$/);
  });
});

describe('5xx counting (opt-in) needs several client addresses', () => {
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it("one client's 5xx cannot mark an upstream down; several can, and an answer brings it back", async () => {
    for (let i = 0; i < 6; i++) {
      const res = await rawRequest(h.url, { path: '/flaky/fail', headers: from('10.0.0.1') });
      expect(res.status).toBe(500);
    }
    expect(
      (await rawRequest(h.url, { path: '/flaky/quote', headers: from('10.0.0.9') })).status,
    ).toBe(402);

    // A second address joins the run: 2 distinct clients, 3 in a row → down.
    await rawRequest(h.url, { path: '/flaky/fail', headers: from('10.0.0.2') });
    const refused = await rawRequest(h.url, { path: '/flaky/quote', headers: from('10.0.0.9') });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ reason: 'upstream_down' });

    // A good answer from that upstream (a free route is still forwarded): up again.
    const ok = await rawRequest(h.url, { path: '/flaky/items/1', headers: from('10.0.0.3') });
    expect(ok.status).toBe(200);
    expect((await rawRequest(h.url, { path: '/flaky/quote' })).status).toBe(402);
  });

  it('a good answer between failures starts the run over', async () => {
    await rawRequest(h.url, { path: '/flaky/fail', headers: from('10.0.1.1') });
    await rawRequest(h.url, { path: '/flaky/fail', headers: from('10.0.1.2') });
    await rawRequest(h.url, { path: '/flaky/items/2', headers: from('10.0.1.3') });
    await rawRequest(h.url, { path: '/flaky/fail', headers: from('10.0.1.4') });
    expect((await rawRequest(h.url, { path: '/flaky/quote' })).status).toBe(402);
  });
});

describe('the active check (health.path)', () => {
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('a passing check overrules a passive run: the routes keep asking for payment', async () => {
    const checks = flaky.calls.filter((c) => c.url === '/v1/health').length;
    await rawRequest(h.url, { path: '/checked/fail', headers: from('10.0.2.1') });
    await rawRequest(h.url, { path: '/checked/fail', headers: from('10.0.2.2') });
    // The run tripped: a GET /v1/health confirmed the upstream answers, so it stays up.
    await expect
      .poll(() => flaky.calls.filter((c) => c.url === '/v1/health').length, { timeout: 2_000 })
      .toBeGreaterThan(checks);
    expect((await rawRequest(h.url, { path: '/checked/quote' })).status).toBe(402);
    expect((await readyz()).checks['upstream checked']).toMatchObject({ ok: true });
  });

  it('a failing check takes the upstream down with no traffic at all', async () => {
    await expect
      .poll(async () => (await rawRequest(h.url, { path: '/broken/quote' })).status, {
        timeout: 3_000,
        interval: 50,
      })
      .toBe(503);
    expect((await readyz()).checks['upstream broken']!.detail).toContain('answered 500');
  });
});

describe('a payment the ledger holds, retried while its upstream is down', () => {
  it('is answered from its record, not refused as a new payment', async () => {
    // Unknown: the facilitator's refusal leaves the settlement to be resumed with the same payment.
    const pending = await signFor(h.url, '/api/quote', { version: 2, account: testAccount(2) });
    h.facilitator.setMode('settle-fail-unlisted');
    expect((await payWith(h.url, '/api/quote', pending)).status).toBe(503);
    h.facilitator.setMode('normal');

    await api.close();
    await expect
      .poll(async () => (await rawRequest(h.url, { path: '/api/quote' })).status, {
        timeout: 3_000,
        interval: 50,
      })
      .toBe(503);
    // The pending one is taken up by its record (resumed), not refused as upstream_down: the
    // upstream cannot answer, so nothing is settled now, and it stays resumable.
    const resumed = await payWith(h.url, '/api/quote', pending);
    expect(JSON.parse(resumed.body)).not.toMatchObject({ reason: 'upstream_down' });
    expect(resumed.status).toBe(502);

    api = await startTestUpstream({ port: apiPort });
    await expect
      .poll(async () => (await rawRequest(h.url, { path: '/api/quote' })).status, {
        timeout: 5_000,
        interval: 100,
      })
      .toBe(402);
    const settled = await payWith(h.url, '/api/quote', pending);
    expect(settled.status).toBe(200);
  });
});
