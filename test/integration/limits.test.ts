import { describe, expect, it } from 'vitest';
import { startHarness } from '../helpers/gateway-harness.js';
import { rawRequest } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';

describe('limits', () => {
  it('past maxInFlight the gateway answers 503 overloaded', async () => {
    // Its share must be the whole cap for one address to fill it.
    const h = await startHarness({ serverYaml: '  limits: { maxInFlight: 2, maxClientShare: 1 }' });
    try {
      // Two requests hang on the slow upstream (free path: unpriced /v1/slowfree), the third is shed.
      const slow = [
        rawRequest(h.url, { path: '/v1/slow-free' }),
        rawRequest(h.url, { path: '/v1/slow-free' }),
      ];
      await new Promise((r) => setTimeout(r, 150));
      // From another address: 127.0.0.1 holds all the connections its share allows.
      const res = await rawRequest(h.url, { path: '/v1/health', localAddress: '127.0.0.2' });
      expect(res.status).toBe(503);
      expect(JSON.parse(res.body)).toMatchObject({ reason: 'overloaded' });
      expect((await Promise.all(slow)).map((r) => r.status)).toEqual([504, 504]);
      expect((await rawRequest(h.url, { path: '/v1/health' })).status).toBe(200);
    } finally {
      await h.close();
    }
  });

  // With a length the body is refused before the upstream is asked; chunked, it is counted as it
  // streams and the upstream request is abandoned before the body is whole.
  it.each([
    ['with a Content-Length', {}],
    ['chunked', { 'transfer-encoding': 'chunked' }],
  ])(
    'a body over maxBodyBytes, %s, gets 413 and never reaches the upstream whole',
    async (_framing, headers) => {
      const h = await startHarness({ serverYaml: '  limits: { maxBodyBytes: 16 }' });
      try {
        const res = await rawRequest(h.url, {
          method: 'POST',
          path: '/anything',
          headers,
          body: 'x'.repeat(64),
        });
        expect(res.status).toBe(413);
        expect(JSON.parse(res.body)).toMatchObject({ reason: 'payload_too_large' });
        expect(h.upstream.calls).toHaveLength(0);
      } finally {
        await h.close();
      }
    },
  );

  it('a chunked body within maxBodyBytes reaches the upstream whole, even on a GET', async () => {
    const h = await startHarness({ serverYaml: '  limits: { maxBodyBytes: 16 }' });
    try {
      const headers = { 'transfer-encoding': 'chunked' };
      const res = await rawRequest(h.url, {
        method: 'GET',
        path: '/anything',
        headers,
        body: 'twelve bytes',
      });
      expect(res.status).toBe(200);
      expect(h.upstream.calls).toHaveLength(1);
      // Framed by a length or chunked, depending on whether it had all arrived when it was sent.
      expect(h.upstream.calls[0]!.body).toBe('twelve bytes');
    } finally {
      await h.close();
    }
  });

  it('oversized request headers get 431 and never reach the upstream', async () => {
    const h = await startHarness({ serverYaml: '  limits: { maxHeaderBytes: 2048 }' });
    try {
      const res = await rawRequest(h.url, {
        path: '/v1/health',
        headers: { 'x-big': 'y'.repeat(4096) },
      });
      expect(res.status).toBe(431);
      expect(h.upstream.calls).toHaveLength(0);
    } finally {
      await h.close();
    }
  });
});

describe('shutdown', () => {
  it('lets an in-flight paid request finish its settlement before closing', async () => {
    const h = await startHarness({ facilitator: { latencyMs: 300 } });
    try {
      const payment = await signFor(h.url, '/v1/quote', { version: 2 });
      const inFlight = payWith(h.url, '/v1/quote', payment);
      await new Promise((r) => setTimeout(r, 100));
      const closed = h.gateway.close();
      // Draining: readiness turns 503 at once, while the admin listener still answers.
      const draining = await fetch(`${h.gateway.adminUrl}/readyz`);
      expect(draining.status).toBe(503);
      expect(await draining.json()).toMatchObject({
        ready: false,
        detail: 'draining: shutting down',
      });
      const res = await inFlight;
      await closed;
      expect(res.status).toBe(200);
      expect(h.facilitator.transfers).toHaveLength(1);
      await expect(rawRequest(h.url, { path: '/v1/health' })).rejects.toThrow();
    } finally {
      await h.close();
    }
  });
});

describe('readiness', () => {
  it('/readyz is 200 for free routes at once; paid (scope=paid) waits for the facilitator /supported', async () => {
    const h = await startHarness({ facilitator: { latencyMs: 400 } });
    try {
      const early = await fetch(`${h.gateway.adminUrl}/readyz`);
      expect(early.status).toBe(200);
      expect(await early.json()).toMatchObject({
        ready: true,
        paid: {
          ok: false,
          reasons: ['facilitator: waiting for the facilitator /supported answer'],
        },
        checks: { facilitator: { ok: false, affects: 'paid' }, ledger: { ok: true } },
      });
      expect((await fetch(`${h.gateway.adminUrl}/readyz?scope=paid`)).status).toBe(503);
      await new Promise((r) => setTimeout(r, 700));
      const later = await fetch(`${h.gateway.adminUrl}/readyz?scope=paid`);
      expect(later.status).toBe(200);
      expect(await later.json()).toMatchObject({ paid: { ok: true, reasons: [] } });
      expect((await fetch(`${h.gateway.adminUrl}/healthz`)).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
