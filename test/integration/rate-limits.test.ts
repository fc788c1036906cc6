/**
 * Issue 16 §4, rate limits, through the whole gateway on loopback (a real upstream and a real
 * facilitator that checks EIP-712 signatures). Each client is its own loopback address.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { lineSink } from '../helpers/log-sink.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { rawRequest, type RawResponse } from '../helpers/raw-http.js';
import { signFor, type PaymentHeader } from '../helpers/pay.js';
import { encodePaymentHeader, tamperSignature, testAccount } from '../helpers/payments.js';
import type { PaymentPayloadV2 } from '../../src/x402/types.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const start = (rateLimits: string): Promise<Harness> =>
  startHarness({ extraYaml: `rateLimits: ${rateLimits}` });

const ask = (from: string, path = '/v1/quote'): Promise<RawResponse> =>
  rawRequest(h!.url, { path, localAddress: from });

const pay = (from: string, payment: PaymentHeader): Promise<RawResponse> =>
  rawRequest(h!.url, {
    path: '/v1/quote',
    headers: { [payment.name]: payment.value },
    localAddress: from,
  });

const reasonOf = (res: RawResponse): unknown =>
  (JSON.parse(res.body) as { reason?: unknown }).reason;

async function limited(limit: string): Promise<number> {
  const text = await h!.gateway.gateway.metrics.registry.metrics();
  const m = new RegExp(`^x402_gateway_rate_limited_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  return Number(m?.[1]);
}

/** `payment` with its authorization's `from` replaced and nothing re-signed: a forgery. */
function forgedFrom(payment: PaymentHeader, from: string): PaymentHeader {
  const p = payment.payload as PaymentPayloadV2;
  const payload = {
    ...p,
    payload: { ...p.payload, authorization: { ...p.payload.authorization, from } },
  };
  return { name: payment.name, value: encodePaymentHeader(payload), payload };
}

describe('challenge rate', () => {
  it('a client over its challenge rate gets 429 with Retry-After while another still gets 402', async () => {
    h = await start('{ challengesPerSecond: { perClient: 1, burst: 3 } }');
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await ask('127.0.0.2')).status);
    expect(statuses).toEqual([402, 402, 402]);
    const refused = await ask('127.0.0.2');
    expect(refused.status).toBe(429);
    expect(reasonOf(refused)).toBe('challenge_rate_exceeded');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect((await ask('127.0.0.3')).status).toBe(402);
    // Free routes never meet it.
    expect((await ask('127.0.0.2', '/v1/health')).status).toBe(200);
    expect(await limited('challenges')).toBe(1);
    // A token comes back within a second.
    await new Promise((r) => setTimeout(r, 1_050));
    expect((await ask('127.0.0.2')).status).toBe(402);
  });

  it('a refusal is logged: one warning naming the limit and client, and the access line with the reason', async () => {
    const { stream, lines } = lineSink();
    h = await startHarness({
      extraYaml: 'rateLimits: { challengesPerSecond: { perClient: 1, burst: 1 } }',
      log: pino({ level: 'info' }, stream),
    });
    await ask('127.0.0.2');
    for (let i = 0; i < 5; i++) expect((await ask('127.0.0.2')).status).toBe(429);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const warnings = parsed.filter((l) => l.msg === 'rate limit exceeded: 429');
    // Five refusals within a second: one warning (the metric counts all five).
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ limit: 'challenges', client: '127.0.0.2', retryAfter: 1 });
    const access = parsed.filter((l) => l.reason === 'challenge_rate_exceeded' && l.status === 429);
    expect(access).toHaveLength(5);
    expect(access[0]).toMatchObject({ outcome: 'rate_limited' });
    expect(await limited('challenges')).toBe(5);
  });

  it('a paid request from a client over its challenge rate is served', async () => {
    h = await start('{ challengesPerSecond: { perClient: 1, burst: 1 } }');
    expect((await ask('127.0.0.2')).status).toBe(402);
    expect((await ask('127.0.0.2')).status).toBe(429);
    // Signed from the challenge another address got; paid from the limited one.
    const payment = await signFor(h.url, '/v1/quote', { account: testAccount(1) });
    const paid = await pay('127.0.0.2', payment);
    expect(paid.status).toBe(200);
  });

  it('limits off: no 429 however many challenges', async () => {
    h = await start('{ enabled: false, challengesPerSecond: { perClient: 1, burst: 1 } }');
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++) statuses.add((await ask('127.0.0.2')).status);
    expect([...statuses]).toEqual([402]);
    expect(await limited('challenges')).toBe(0);
  });

  it('a reload changes the rate without a restart', async () => {
    h = await start('{ challengesPerSecond: { perClient: 1, burst: 1 } }');
    expect((await ask('127.0.0.2')).status).toBe(402);
    expect((await ask('127.0.0.2')).status).toBe(429);
    const report = h.reload(
      h.yaml.replace('perClient: 1, burst: 1 }', 'perClient: 100, burst: 50 }'),
    );
    expect(report).toMatchObject({ ok: true });
    // The bucket keeps what it held (empty) and refills at the new rate: 10 tokens in 100 ms.
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 5; i++) expect((await ask('127.0.0.2')).status).toBe(402);
  });
});

describe('failed payments per client', () => {
  it('repeated failed payments from one client get 429 payment_failure_rate_exceeded', async () => {
    h = await start('{ failuresPerMinute: { perClient: 3, perPayer: 60 } }');
    const payment = await signFor(h.url, '/v1/quote', { account: testAccount(1) });
    const bad = { ...payment, value: '!not base64!' };
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await pay('127.0.0.2', bad)).status);
    expect(answers).toEqual([400, 400, 400]);
    const verifyBefore = h.facilitator.calls.verify;
    // Even a good payment from that client waits now: it is refused before it is checked.
    const refused = await pay('127.0.0.2', payment);
    expect(refused.status).toBe(429);
    expect(reasonOf(refused)).toBe('payment_failure_rate_exceeded');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(h.facilitator.calls.verify).toBe(verifyBefore);
    expect(await limited('client_failures')).toBe(1);
    // Another client pays with the same payment.
    expect((await pay('127.0.0.3', payment)).status).toBe(200);
    // A client without a payment still gets its challenge.
    expect((await ask('127.0.0.2')).status).toBe(402);
  });
});

describe('failed payments per payer', () => {
  it('a forged `from` with a bad signature never counts against that payer', async () => {
    h = await start('{ failuresPerMinute: { perClient: 100, perPayer: 2 } }');
    const victim = testAccount(1);
    const attacker = testAccount(2);
    // Signed by the attacker's key, sent as the victim's: the signature does not recover to `from`.
    for (let i = 0; i < 6; i++) {
      const own = await signFor(h.url, '/v1/quote', { account: attacker });
      const res = await pay(`127.0.0.${10 + i}`, forgedFrom(own, victim.address));
      expect(res.status).toBe(402);
    }
    // And the victim's own payments with one signature nibble altered.
    for (let i = 0; i < 4; i++) {
      const own = await signFor(h.url, '/v1/quote', { account: victim });
      const tampered = tamperSignature(own.payload as PaymentPayloadV2);
      const res = await pay('127.0.0.20', { ...own, value: encodePaymentHeader(tampered) });
      expect(res.status).toBe(402);
    }
    expect(h.gateway.gateway.deps.rateLimits!.tracked('payer_failures')).toBe(0);
    const honest = await signFor(h.url, '/v1/quote', { account: victim });
    expect((await pay('127.0.0.30', honest)).status).toBe(200);
    expect(await limited('payer_failures')).toBe(0);
  });

  it("failures the payer's key caused (funds refused at verify) lock that payer out before verify", async () => {
    h = await start('{ failuresPerMinute: { perClient: 100, perPayer: 2 } }');
    const broke = testAccount(3);
    h.facilitator.setBalance(broke.address, 0n);
    for (let i = 0; i < 2; i++) {
      const payment = await signFor(h.url, '/v1/quote', { account: broke });
      const res = await pay(`127.0.0.${10 + i}`, payment);
      expect(res.status).toBe(402);
      expect(JSON.parse(res.body)).toMatchObject({
        error: 'invalid_exact_evm_insufficient_balance',
      });
    }
    const verifyBefore = h.facilitator.calls.verify;
    const next = await signFor(h.url, '/v1/quote', { account: broke });
    const refused = await pay('127.0.0.12', next);
    expect(refused.status).toBe(429);
    expect(reasonOf(refused)).toBe('payer_failure_rate_exceeded');
    expect(Number(refused.headers['retry-after'])).toBe(30);
    expect(h.facilitator.calls.verify).toBe(verifyBefore);
    expect(await limited('payer_failures')).toBe(1);
    // Another payer from the same addresses is unaffected.
    const other = await signFor(h.url, '/v1/quote', { account: testAccount(4) });
    expect((await pay('127.0.0.12', other)).status).toBe(200);
  });

  it('a settlement declined after verification counts against the payer', async () => {
    h = await start('{ failuresPerMinute: { perClient: 100, perPayer: 1 } }');
    h.facilitator.setMode('settle-decline');
    const payer = testAccount(2);
    const first = await signFor(h.url, '/v1/quote', { account: payer });
    const declined = await pay('127.0.0.10', first);
    expect(declined.status).toBe(402);
    h.facilitator.setMode('normal');
    const again = await signFor(h.url, '/v1/quote', { account: payer });
    const refused = await pay('127.0.0.11', again);
    expect(refused.status).toBe(429);
    expect(reasonOf(refused)).toBe('payer_failure_rate_exceeded');
  });
});
