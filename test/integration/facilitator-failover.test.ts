/**
 * Issue 16 §1: `facilitators:`, a failover list. Real loopback facilitators (facilitator-server.ts,
 * each with its own in-memory chain) behind a real gateway: verify goes to the first facilitator
 * whose circuit is closed and whose /supported lists the network; settle stays with the facilitator
 * that verified, moves on only when nothing was sent, and an unknown outcome never moves.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { startTestFacilitator, type TestFacilitator } from '../helpers/facilitator-server.js';
import { payWith, signFor } from '../helpers/pay.js';
import { rawRequest } from '../helpers/raw-http.js';
import { lineSink } from '../helpers/log-sink.js';
import pino from 'pino';
import { encodePaymentHeader, tamperSignature } from '../helpers/payments.js';
import type { PaymentPayloadV2 } from '../../src/x402/types.js';

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A loopback URL nothing listens on (connection refused). */
async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function metric(h: Harness, name: string): Promise<string[]> {
  const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name));
}

/** A list of two: `first` (a URL) then the harness's facilitator, named a and b. */
const listOf =
  (first: () => string, extra = '') =>
  (harnessUrl: string): string => `facilitators:
  - name: a
    url: ${first()}
    verifyTimeoutMs: 500
    settleTimeoutMs: 800
    supportedRefreshMs: 300
${extra}
  - name: b
    url: ${harnessUrl}
    verifyTimeoutMs: 500
    settleTimeoutMs: 800
    supportedRefreshMs: 300`;

describe('the first facilitator is down (connection refused)', () => {
  let h: Harness;
  const { stream, lines } = lineSink();
  beforeAll(async () => {
    // Credentials in its URL and a header: neither may reach a log line.
    const dead = (await deadUrl()).replace('http://', 'http://user:url-secret-1@');
    h = await startHarness({
      facilitatorSection: listOf(() => dead, '    headers: { x-api-key: header-secret-2 }'),
      log: pino({ level: 'debug' }, stream),
    });
    // The second one answered /supported: paid requests are ready, the first shows as down.
    await waitFor(() => h.gateway.gateway.readiness.paid().ready);
  });
  afterAll(() => h.close());

  it('verify and settle go to the second: paid 200, one transfer', async () => {
    const payment = await signFor(h.url, '/v1/quote');
    const res = await payWith(h.url, '/v1/quote', payment);
    expect(res.status).toBe(200);
    expect(h.facilitator.calls.verify).toBe(1);
    expect(h.facilitator.calls.settle).toBe(1);
    expect(h.facilitator.transfers).toHaveLength(1);
    const readiness = h.gateway.gateway.readiness.snapshot().checks.facilitator!;
    expect(readiness.ok).toBe(true);
    expect(readiness.detail).toContain('a: facilitator /supported failed: network');
    // The second facilitator was asked without a failover: the first had never answered /supported
    // (unknown comes after listed).
    const again = await payWith(h.url, '/v1/quote', await signFor(h.url, '/v1/quote'));
    expect(again.status).toBe(200);
    expect(h.facilitator.transfers).toHaveLength(2);
  });

  it('logs name the facilitator by its label, never its URL credentials or header values', () => {
    const text = lines.join('\n');
    expect(text).toContain('"facilitator":"a"');
    expect(text).not.toContain('url-secret-1');
    expect(text).not.toContain('header-secret-2');
  });
});

describe('a settle the first facilitator may have (timeout, 5xx) never moves', () => {
  let h: Harness;
  let first: TestFacilitator;
  beforeAll(async () => {
    first = await startTestFacilitator();
    h = await startHarness({ facilitatorSection: listOf(() => first.url) });
    await waitFor(() => first.calls.supported > 0 && h.facilitator.calls.supported > 0);
    await waitFor(() => h.gateway.gateway.readiness.paid().ready);
  });
  afterAll(async () => {
    await h.close();
    await first.close();
  });

  it.each(['settle-timeout', 'settle-500'] as const)(
    '%s: 503 settlement_pending, and the second facilitator never receives that /settle',
    async (mode) => {
      first.setMode(mode);
      const verifies = first.calls.verify;
      const settles = first.calls.settle;
      const res = await payWith(h.url, '/v1/quote', await signFor(h.url, '/v1/quote'));
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'settlement_pending' });
      expect(first.calls.verify).toBe(verifies + 1);
      expect(first.calls.settle).toBe(settles + 1);
      expect(h.facilitator.calls.verify).toBe(0);
      expect(h.facilitator.calls.settle).toBe(0);
    },
  );

  it('its retry resumes at the facilitator that has it: down now, nothing goes to the second', async () => {
    first.setMode('settle-timeout');
    const payment = await signFor(h.url, '/v1/quote');
    expect((await payWith(h.url, '/v1/quote', payment)).status).toBe(503);
    await first.close();
    const retry = await payWith(h.url, '/v1/quote', payment);
    expect(retry.status).toBe(503);
    expect(JSON.parse(retry.body)).toMatchObject({ reason: 'settlement_pending' });
    expect(h.facilitator.calls.settle).toBe(0);
    expect(h.facilitator.calls.verify).toBe(0);
    expect(h.facilitator.transfers).toHaveLength(0);
  });
});

describe('a circuit opens after N faults, half-opens and recovers', () => {
  let h: Harness;
  let first: TestFacilitator;
  beforeAll(async () => {
    first = await startTestFacilitator();
    h = await startHarness({
      facilitatorSection: listOf(
        () => first.url,
        '    breakerFailures: 2\n    breakerHalfOpenAfterMs: 600',
      ),
    });
    await waitFor(() => first.calls.supported > 0 && h.facilitator.calls.supported > 0);
  });
  afterAll(async () => {
    await h.close();
    await first.close();
  });

  it('faults fail over within the request; past 2 the first is skipped; a trial closes it', async () => {
    first.setMode('verify-500');
    for (let i = 1; i <= 2; i++) {
      const res = await payWith(h.url, '/v1/quote', await signFor(h.url, '/v1/quote'));
      expect(res.status).toBe(200);
      expect(first.calls.verify).toBe(i);
      expect(h.facilitator.calls.verify).toBe(i);
    }
    expect(await metric(h, 'x402_gateway_facilitator_breaker_state{facilitator="a"}')).toEqual([
      'x402_gateway_facilitator_breaker_state{facilitator="a"} 2',
    ]);
    // Open: not asked at all.
    expect((await payWith(h.url, '/v1/quote', await signFor(h.url, '/v1/quote'))).status).toBe(200);
    expect(first.calls.verify).toBe(2);
    expect(h.facilitator.calls.verify).toBe(3);
    expect(first.calls.settle).toBe(0);
    const failovers = await metric(h, 'x402_gateway_facilitator_failovers_total{op="verify"');
    expect(failovers.join('\n')).toMatch(/cause="fault"} 2/);
    expect(failovers.join('\n')).toMatch(/cause="circuit_open"} 1/);

    // After breakerHalfOpenAfterMs one trial goes to the first; it answers, the circuit closes.
    first.setMode('normal');
    await new Promise((r) => setTimeout(r, 650));
    expect((await payWith(h.url, '/v1/quote', await signFor(h.url, '/v1/quote'))).status).toBe(200);
    expect(first.calls.verify).toBe(3);
    expect(first.calls.settle).toBe(1);
    expect(h.facilitator.calls.verify).toBe(3);
    expect(await metric(h, 'x402_gateway_facilitator_breaker_state{facilitator="a"}')).toEqual([
      'x402_gateway_facilitator_breaker_state{facilitator="a"} 0',
    ]);
  });

  it("a payer's refusal (a bad signature) never counts as a fault", async () => {
    const before = first.calls.verify;
    for (let i = 0; i < 3; i++) {
      const good = await signFor(h.url, '/v1/quote');
      const payload = tamperSignature(good.payload as PaymentPayloadV2);
      const tampered = { ...good, value: encodePaymentHeader(payload), payload };
      expect((await payWith(h.url, '/v1/quote', tampered)).status).toBe(402);
    }
    expect(first.calls.verify).toBe(before + 3);
    expect(await metric(h, 'x402_gateway_facilitator_breaker_state{facilitator="a"}')).toEqual([
      'x402_gateway_facilitator_breaker_state{facilitator="a"} 0',
    ]);
  });
});

describe('/supported decides who is asked', () => {
  let h: Harness;
  let mainnetOnly: TestFacilitator;
  beforeAll(async () => {
    mainnetOnly = await startTestFacilitator({
      supportedKinds: [
        { x402Version: 1, scheme: 'exact', network: 'base' },
        { x402Version: 2, scheme: 'exact', network: 'eip155:8453' },
      ],
    });
    h = await startHarness({ facilitatorSection: listOf(() => mainnetOnly.url) });
    await waitFor(() => mainnetOnly.calls.supported > 0 && h.facilitator.calls.supported > 0);
  });
  afterAll(async () => {
    await h.close();
    await mainnetOnly.close();
  });

  it('a facilitator whose /supported lacks the network is skipped (v1 and v2)', async () => {
    for (const version of [1, 2] as const) {
      const res = await payWith(h.url, '/v1/quote', await signFor(h.url, '/v1/quote', { version }));
      expect(res.status).toBe(200);
    }
    expect(mainnetOnly.calls.verify).toBe(0);
    expect(mainnetOnly.calls.settle).toBe(0);
    expect(h.facilitator.calls.settle).toBe(2);
  });

  it('a reload that drops the one that lists it: 503 no_facilitator_for_network (no 402 either), and readiness', async () => {
    // Signed while a facilitator still lists the network (signing reads the 402 challenge).
    const payment = await signFor(h.url, '/v1/quote');
    const yaml = h.yaml.replace(
      /facilitators:[\s\S]*?(?=\npayment:)/,
      `facilitators:
  - name: a
    url: ${mainnetOnly.url}
    supportedRefreshMs: 300
  - name: c
    url: ${mainnetOnly.url}/other
    supportedRefreshMs: 300
`,
    );
    const report = h.reload(yaml);
    // (`routes` changes too: a route remembers its line in the file.)
    expect(report).toMatchObject({ ok: true, refused: [] });
    expect(report.ok && report.changed).toContain('facilitators');
    await waitFor(() => mainnetOnly.calls.supported >= 4);
    await waitFor(() =>
      h.gateway.gateway.readiness.paid().detail.includes('no facilitator lists eip155:84532'),
    );
    const res = await payWith(h.url, '/v1/quote', payment);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ reason: 'no_facilitator_for_network' });
    expect(mainnetOnly.calls.verify).toBe(0);
    // Nobody could take a payment on this route's network: it does not ask for one.
    const unpaid = await rawRequest(h.url, { method: 'GET', path: '/v1/quote' });
    expect(unpaid.status).toBe(503);
    expect(unpaid.headers['retry-after']).toBe('30');
    expect(unpaid.headers['payment-required']).toBeUndefined();
    expect(JSON.parse(unpaid.body)).toMatchObject({ reason: 'no_facilitator_for_network' });
    // Free routes are served.
    expect((await rawRequest(h.url, { method: 'GET', path: '/v1/health' })).status).toBe(200);
  });
});

describe('reload of the list', () => {
  let h: Harness;
  let first: TestFacilitator;
  beforeAll(async () => {
    first = await startTestFacilitator();
    h = await startHarness({ facilitatorSection: listOf(() => first.url) });
    await waitFor(() => first.calls.supported > 0 && h.facilitator.calls.supported > 0);
  });
  afterAll(async () => {
    await h.close();
    await first.close();
  });

  it('a reorder sends the next verify to the new first', async () => {
    expect((await payWith(h.url, '/v1/quote', await signFor(h.url, '/v1/quote'))).status).toBe(200);
    expect(first.calls.verify).toBe(1);
    expect(h.facilitator.calls.verify).toBe(0);
    const reordered = h.yaml.replace(
      /facilitators:[\s\S]*?(?=\npayment:)/,
      `facilitators:
  - name: b
    url: ${h.facilitator.url}
  - name: a
    url: ${first.url}
`,
    );
    const report = h.reload(reordered);
    expect(report.ok && report.changed).toContain('facilitators');
    await waitFor(() => h.gateway.gateway.readiness.paid().ready);
    await waitFor(() => h.facilitator.calls.supported > 1);
    expect((await payWith(h.url, '/v1/quote', await signFor(h.url, '/v1/quote'))).status).toBe(200);
    expect(h.facilitator.calls.verify).toBe(1);
    expect(first.calls.verify).toBe(1);
  });

  it('a switch to the built-in facilitator is refused as facilitator.local', () => {
    const local = h.yaml.replace(
      /facilitators:[\s\S]*?(?=\npayment:)/,
      `facilitator:
  local:
    rpcUrl: http://127.0.0.1:8545
    privateKey: "0x${'1'.repeat(64)}"
`,
    );
    const report = h.reload(local);
    expect(report).toMatchObject({ ok: true, refused: ['facilitator.local'] });
    expect(h.gateway.gateway.config.facilitators).toHaveLength(2);
  });
});
