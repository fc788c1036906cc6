import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startHarness } from '../helpers/gateway-harness.js';
import { lineSink } from '../helpers/log-sink.js';
import { rawRequest } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';
import { testAccount } from '../helpers/payments.js';

describe('request logs', () => {
  it('write one JSON line per request with the payment facts, and never the payment header', async () => {
    const { stream: sink, lines } = lineSink();
    const h = await startHarness({ log: pino({ level: 'info' }, sink) });
    try {
      const payment = await signFor(h.url, '/v1/quote', { version: 2 });
      const res = await payWith(h.url, '/v1/quote', payment);
      expect(res.status).toBe(200);
      await rawRequest(h.url, { path: '/v1/quote', headers: { 'x-payment': payment.value } });
      await new Promise((r) => setTimeout(r, 50));
      const requests = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => 'outcome' in l);
      // signFor's unpaid probe, the paid call, the replay.
      expect(requests.map((r) => r.outcome)).toEqual(['challenge', 'paid', 'replay']);
      const paid = requests[1]!;
      expect(paid).toMatchObject({
        route: 'GET /v1/quote',
        status: 200,
        payer: testAccount(0).address,
        amount: '1000',
        network: 'eip155:84532',
      });
      expect(String(paid.tx)).toMatch(/^0x[0-9a-f]{64}$/);
      expect(typeof paid.reqId).toBe('string');
      expect(typeof paid.ms).toBe('number');
      expect(requests[2]).toMatchObject({ reason: 'payment_already_used', status: 402 });
      for (const line of lines) expect(line).not.toContain(payment.value.slice(0, 40));
    } finally {
      await h.close();
    }
  });

  it('a paid response whose body breaks is logged as charged but not delivered whole', async () => {
    const { stream: sink, lines } = lineSink();
    const h = await startHarness({ log: pino({ level: 'info' }, sink) });
    try {
      const whole = await payWith(
        h.url,
        '/v1/search/whole',
        await signFor(h.url, '/v1/search/whole'),
      );
      expect(whole.status).toBe(200);
      const payment = await signFor(h.url, '/v1/search/break');
      await payWith(h.url, '/v1/search/break', payment).then(
        (res) => expect(res.body.length).toBeLessThan(65536),
        (err: unknown) => expect(err).toBeInstanceOf(Error), // the cut reaches the client
      );
      await new Promise((r) => setTimeout(r, 100));
      const warned = lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === 'paid response not delivered whole: the payer was charged');
      expect(warned).toHaveLength(1);
      expect(String(warned[0]!.tx)).toMatch(/^0x[0-9a-f]{64}$/);
    } finally {
      await h.close();
    }
  });
});
