import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../../src/config/index.js';

const load = (server: string) =>
  loadConfigText(`server:\n${server}\nupstream: http://127.0.0.1:9\nroutes: {}\n`, {}, 'x.yaml');

describe('config: slow-client limits and trusted proxies', () => {
  it('has safe defaults', () => {
    const r = load('  listen: 127.0.0.1:0');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.server.trustedProxies).toEqual([]);
    expect(r.config.server.limits).toMatchObject({
      bodyIdleTimeoutMs: 10_000,
      writeIdleTimeoutMs: 30_000,
      upstreamBodyIdleTimeoutMs: 30_000,
      maxClientShare: 0.25,
    });
  });

  it.each([
    ['  trustedProxies: [10.0.0.0/8]', 'server.trustedProxies', 'trustProxy'],
    ['  trustProxy: true\n  trustedProxies: [10.0.0.0/33]', 'server.trustedProxies.0', 'CIDR'],
    ['  trustProxy: true\n  trustedProxies: [not-an-ip]', 'server.trustedProxies.0', 'CIDR'],
    ['  limits: { maxClientShare: 0 }', 'server.limits.maxClientShare', 'above 0'],
    ['  limits: { maxClientShare: 1.5 }', 'server.limits.maxClientShare', 'at most 1'],
    ['  limits: { bodyIdleTimeoutMs: 0 }', 'server.limits.bodyIdleTimeoutMs', 'positive'],
  ])('refuses %j', (yaml, path, words) => {
    const r = load(yaml);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const problem = r.problems.find((p) => p.path === path);
    expect(problem?.message).toContain(words);
  });
});
