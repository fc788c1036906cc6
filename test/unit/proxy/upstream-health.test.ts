/**
 * The passive side of an upstream's health, without its periodic check (never started): which runs
 * of failures take it down, and what brings it back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { UpstreamHealth } from '../../../src/proxy/upstream-health.js';

function health(
  options: {
    count5xx?: boolean;
    minClients?: number;
    failures?: number;
    url?: string;
    intervalMs?: number;
  } = {},
) {
  const changes: string[] = [];
  const h = new UpstreamHealth({
    name: 'api',
    url: options.url ?? 'http://127.0.0.1:1',
    failures: options.failures ?? 3,
    count5xx: options.count5xx ?? false,
    minClients: options.minClients ?? 3,
    retryAfterSeconds: 7,
    intervalMs: options.intervalMs ?? 60_000,
    timeoutMs: 100,
    onChange: (state, why) => changes.push(`${state}: ${why}`),
  });
  return { h, changes };
}

describe('UpstreamHealth (passive)', () => {
  it('connect failures in a row take it down, whoever the client', () => {
    const { h, changes } = health();
    h.connectFailed('ECONNREFUSED');
    h.connectFailed('ECONNREFUSED');
    expect(h.down).toBe(false);
    h.connectFailed('ECONNREFUSED');
    expect(h.down).toBe(true);
    expect(h.retryAfter).toBe('7');
    expect(changes).toEqual(['down: 3 connect failures in a row (ECONNREFUSED)']);
    expect(h.check()).toMatchObject({ ok: false });
  });

  it('a good answer between them starts the run over', () => {
    const { h } = health();
    h.connectFailed('x');
    h.connectFailed('x');
    h.succeeded();
    h.connectFailed('x');
    h.connectFailed('x');
    expect(h.down).toBe(false);
  });

  it('timeouts from one client address never take it down; from minClients they do', () => {
    const { h } = health();
    for (let i = 0; i < 50; i++) h.failed('10.0.0.1', 'timeout');
    h.failed('10.0.0.2', 'timeout');
    expect(h.down).toBe(false);
    h.failed('10.0.0.3', 'timeout');
    expect(h.down).toBe(true);
  });

  it('an answer brings a down upstream back', () => {
    const { h, changes } = health({ failures: 1 });
    h.connectFailed('x');
    expect(h.down).toBe(true);
    h.succeeded();
    expect(h.down).toBe(false);
    expect(changes.at(-1)).toBe('up: it answered a request');
  });
});

async function listening(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/base`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('UpstreamHealth (the periodic TCP check, without health.path)', () => {
  it('says it accepts connections, then down after `failures` failed checks', async () => {
    const upstream = await listening();
    const { h } = health({ url: upstream.url, intervalMs: 20 });
    expect(h.check()).toMatchObject({ ok: true });
    expect(h.check().detail).toContain('not checked yet');
    h.start();
    try {
      await expect.poll(() => h.check().detail).toContain('accepts connections');
      await upstream.close();
      await expect.poll(() => h.down, { timeout: 3_000 }).toBe(true);
      expect(h.check()).toMatchObject({ ok: false });
      expect(h.check().detail).toMatch(
        /3 checks in a row failed \(127\.0\.0\.1:\d+: ECONNREFUSED\)/,
      );
    } finally {
      await h.stop();
    }
  });

  it('one failed check is not an outage', async () => {
    const upstream = await listening();
    await upstream.close();
    const { h } = health({ url: upstream.url });
    h.start();
    try {
      await expect.poll(() => h.check().detail).toContain('the last check failed (ECONNREFUSED)');
      expect(h.check().ok).toBe(true);
      expect(h.down).toBe(false);
    } finally {
      await h.stop();
    }
  });
});
