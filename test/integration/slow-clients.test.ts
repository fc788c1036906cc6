/**
 * Issue 13, slots held by slow clients: bodies that never arrive, responses nobody reads, upstream
 * bodies that stall, and one address taking every slot. Each attack runs at small scale with short
 * deadlines while honest free and paid requests go through; their figures are logged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { rawRequest } from '../helpers/raw-http.js';
import { payWith, signFor } from '../helpers/pay.js';
import { p99, stalledBody, stalledReader, type RawExchange } from '../helpers/slow-client.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, withinMs: number): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await sleep(10);
  }
  return performance.now() - started;
}

interface Figures {
  ok: number;
  errors: number;
  statuses: number[];
  p99Ms: number;
}

/** Honest traffic from 127.0.0.1: `free` free requests and `paid` paid ones, all at once. */
async function honest(url: string, free: number, paid: number): Promise<Figures> {
  const payments = await Promise.all(
    Array.from({ length: paid }, () => signFor(url, '/v1/quote', { version: 2 })),
  );
  const timed = async (run: () => Promise<{ status: number }>) => {
    const started = performance.now();
    const res = await run().catch(() => ({ status: 0 }));
    return { status: res.status, ms: performance.now() - started };
  };
  const results = await Promise.all([
    ...Array.from({ length: free }, () => timed(() => rawRequest(url, { path: '/v1/health' }))),
    ...payments.map((p) => timed(() => payWith(url, '/v1/quote', p))),
  ]);
  const ok = results.filter((r) => r.status === 200).length;
  return {
    ok,
    errors: results.length - ok,
    statuses: results.map((r) => r.status),
    p99Ms: Math.round(p99(results.map((r) => r.ms))),
  };
}

describe('slow clients', () => {
  it('stalled bodies from one address take only its share; honest payers are served; 408 after the idle deadline', async () => {
    h = await startHarness({
      serverYaml: '  limits: { maxInFlight: 64, maxClientShare: 0.25, bodyIdleTimeoutMs: 500 }',
    });
    // 100 sockets from 127.0.0.2 announce 100 kB bodies and send none.
    const clients = h.gateway.gateway.deps.clients;
    let most = 0;
    const sampler = setInterval(() => {
      const held = clients.held('127.0.0.2');
      most = Math.max(most, held.connections, held.inFlight);
    }, 5);
    const attack: RawExchange[] = Array.from({ length: 100 }, () =>
      stalledBody(h!.url, { localAddress: '127.0.0.2' }),
    );
    await waitFor(() => clients.held('127.0.0.2').inFlight >= 16, 2_000);
    const during = await honest(h.url, 40, 4);
    console.log('stalled bodies, one address: honest during the attack', during);
    expect(during.errors).toBe(0);

    const replies = await Promise.all(attack.map((a) => a.reply));
    clearInterval(sampler);
    // Never more than its share (16 of 64) of connections or slots at once.
    expect(most).toBe(16);
    const timedOut = replies.filter((r) => r.startsWith('HTTP/1.1 408'));
    expect(timedOut.length).toBeGreaterThanOrEqual(16);
    expect(timedOut[0]).toContain('"reason":"body_timeout"');
    // The rest were closed at connect, before a byte (no answer at all), or, accepted as an earlier
    // one was closing but before its slot was given back, got 429 client_share_exceeded.
    const refused = replies.filter((r) => r === '' || r.startsWith('HTTP/1.1 429'));
    expect(refused.length).toBe(100 - timedOut.length);
    const held = await Promise.all(attack.map((a) => a.closedAfterMs));
    console.log(
      'stalled bodies, one address:',
      timedOut.length,
      'got 408; longest held',
      Math.round(Math.max(...held)),
      'ms',
    );
    await waitFor(() => h!.gateway.gateway.inFlight.count === 0, 1_000);
  });

  it('stalled bodies from many addresses fill maxInFlight only until the body idle deadline', async () => {
    h = await startHarness({
      // Long enough for a loaded machine to accept all 80 before the first is cut.
      serverYaml: '  limits: { maxInFlight: 64, maxClientShare: 0.25, bodyIdleTimeoutMs: 1500 }',
    });
    // One socket from each of 80 addresses: no share is exceeded; only the deadline helps.
    const attack = Array.from({ length: 80 }, (_, i) =>
      stalledBody(h!.url, { localAddress: `127.0.1.${i + 1}` }),
    );
    // Most slots held at once (a loaded machine accepts the 80 over time).
    await waitFor(() => h!.gateway.gateway.inFlight.count >= 48, 5_000);
    // Until the deadline every slot is held (the 16 over maxInFlight got 503 at once).
    const freedAfter = await waitFor(() => h!.gateway.gateway.inFlight.count === 0, 4_000);
    const after = await honest(h.url, 40, 4);
    console.log(
      'stalled bodies, 80 addresses: slots free after',
      Math.round(freedAfter),
      'ms; honest after',
      after,
    );
    expect(after.errors).toBe(0);
    // And every attacking socket is closed by the gateway, whatever it was answered (503 at once,
    // 504 or 408 while its body was still announced): a kept-alive one would wait for body bytes
    // that never come, holding its share of connections for good.
    const closed = await Promise.race([
      Promise.all(attack.map((a) => a.closedAfterMs)).then(() => true),
      new Promise<false>((done) => setTimeout(() => done(false), 5_000)),
    ]);
    const open = attack.filter((a) => !a.socket.destroyed).length;
    for (const a of attack) a.socket.destroy();
    expect(closed, `${open} sockets still open`).toBe(true);
  });

  it('a client that stops reading a large response is cut after writeIdleTimeoutMs and frees its slot', async () => {
    h = await startHarness({ serverYaml: '  limits: { writeIdleTimeoutMs: 300 }' });
    const readers = Array.from({ length: 4 }, () => stalledReader(h!.url, '/v1/huge-free'));
    await waitFor(() => h!.gateway.gateway.inFlight.count === 4, 2_000);
    const during = await honest(h.url, 20, 2);
    console.log('stalled readers: honest during', during);
    expect(during.errors).toBe(0);
    const freedAfter = await waitFor(() => h!.gateway.gateway.inFlight.count === 0, 4_000);
    console.log('stalled readers: slots freed after', Math.round(freedAfter), 'ms more');
    for (const r of readers) r.socket.resume();
    const replies = await Promise.all(readers.map((r) => r.reply));
    // Cut mid-body: far less than the 32 MiB the upstream had.
    for (const reply of replies) {
      expect(reply.startsWith('HTTP/1.1 200')).toBe(true);
      expect(reply.length).toBeLessThan(32 * 1024 * 1024);
    }
  });

  it('a client reading a large response at full speed is not cut', async () => {
    // Client, gateway and upstream share this thread: a GC pause can idle the socket ~0.4 s.
    h = await startHarness({ serverYaml: '  limits: { writeIdleTimeoutMs: 1000 }' });
    const res = await rawRequest(h.url, { path: '/v1/huge-free' });
    expect(res.body.length).toBe(32 * 1024 * 1024);
  });

  it('a stalled upstream body is cut after upstreamBodyIdleTimeoutMs', async () => {
    h = await startHarness({
      serverYaml: '  limits: { upstreamBodyIdleTimeoutMs: 300, writeIdleTimeoutMs: 10000 }',
    });
    const started = performance.now();
    const res = await fetch(`${h.url}/v1/stall-free`);
    expect(res.status).toBe(200);
    await expect(res.arrayBuffer()).rejects.toThrow();
    const cutAfter = performance.now() - started;
    console.log('stalled upstream body: cut after', Math.round(cutAfter), 'ms');
    expect(cutAfter).toBeLessThan(3_000);
    await waitFor(() => h!.gateway.gateway.inFlight.count === 0, 1_000);
  });
});

describe('client address behind trusted proxies', () => {
  const proxied = `  trustProxy: true
  trustedProxies: [127.0.0.0/8, 10.0.0.0/8]
  limits: { maxInFlight: 4, maxClientShare: 0.25 }`;

  it('the right-most X-Forwarded-For entry that is not a trusted proxy is the client', async () => {
    h = await startHarness({ serverYaml: proxied });
    // Client 198.51.100.9 holds its one slot (4 × 25%) on a hanging upstream.
    const hanging = rawRequest(h.url, {
      path: '/v1/slow-free',
      headers: { 'x-forwarded-for': '198.51.100.9, 10.1.2.3' },
    });
    await waitFor(() => h!.gateway.gateway.inFlight.count === 1, 2_000);
    const as = (xff: string) =>
      rawRequest(h!.url, { path: '/v1/health', headers: { 'x-forwarded-for': xff } });
    // Prepending entries does not make a new client; trusted hops on the right are skipped.
    const spoofed = await as('1.1.1.1, 198.51.100.9');
    expect(spoofed.status).toBe(429);
    expect(JSON.parse(spoofed.body)).toMatchObject({ reason: 'client_share_exceeded' });
    expect((await as('198.51.100.9, 10.0.0.1, 10.0.0.2')).status).toBe(429);
    // Another client, and the proxy's own requests, are served; the proxy's connections (several
    // open at once from 127.0.0.1, over a share of 1) are never refused.
    expect((await as('198.51.100.10, 10.0.0.1')).status).toBe(200);
    expect((await rawRequest(h.url, { path: '/v1/health' })).status).toBe(200);
    expect((await hanging).status).toBe(504);
  });

  it('keeps a well-formed X-Request-Id from a trusted proxy and passes it upstream', async () => {
    h = await startHarness({ serverYaml: proxied });
    const kept = await rawRequest(h.url, {
      path: '/v1/health',
      headers: { 'x-request-id': 'edge-7f3a.9:2_x'.replace('_x', '') },
    });
    expect(kept.headers['x-request-id']).toBe('edge-7f3a.9:2');
    expect(h.upstream.calls.at(-1)!.headers['x-request-id']).toBe('edge-7f3a.9:2');
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon']) {
      const res = await rawRequest(h.url, { path: '/v1/health', headers: { 'x-request-id': bad } });
      expect(res.headers['x-request-id']).not.toBe(bad);
      expect(h.upstream.calls.at(-1)!.headers['x-request-id']).toBe(res.headers['x-request-id']);
    }
  });

  it('ignores X-Request-Id without trustProxy', async () => {
    h = await startHarness();
    const res = await rawRequest(h.url, {
      path: '/v1/health',
      headers: { 'x-request-id': 'edge-1' },
    });
    expect(res.headers['x-request-id']).not.toBe('edge-1');
    expect(h.upstream.calls.at(-1)!.headers['x-request-id']).toBe(res.headers['x-request-id']);
  });
});
