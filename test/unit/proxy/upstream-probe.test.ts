import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { probeUpstream } from '../../../src/proxy/index.js';

async function listening(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => res.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/base`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('probeUpstream', () => {
  it('says reachable while the upstream accepts connections, and unreachable after two failed probes', async () => {
    const upstream = await listening();
    const probe = probeUpstream(upstream.url, { intervalMs: 20 });
    expect(probe.check().ok).toBe(true);
    expect(probe.check().detail).toContain('not probed yet');
    probe.start();
    try {
      await expect.poll(() => probe.check().detail).toContain('accepts connections');
      await upstream.close();
      await expect.poll(() => probe.check().ok, { timeout: 3_000 }).toBe(false);
      expect(probe.check().detail).toMatch(
        /127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED, \d+ probes in a row\)/,
      );
    } finally {
      probe.stop();
    }
  });

  it('one failed probe is not an outage', async () => {
    const upstream = await listening();
    await upstream.close();
    const probe = probeUpstream(upstream.url, { intervalMs: 60_000 });
    probe.start();
    try {
      await expect
        .poll(() => probe.check().detail)
        .toContain('the last probe failed (ECONNREFUSED)');
      expect(probe.check().ok).toBe(true);
    } finally {
      probe.stop();
    }
  });
});
