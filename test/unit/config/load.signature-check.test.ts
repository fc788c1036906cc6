import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfigText } from '../../../src/config/index.js';

const ROUTES = 'upstream: http://127.0.0.1:3000\nroutes:\n  "GET /free": 0\n';

function load(extra: string) {
  return loadConfigText(`${ROUTES}${extra}`, {}, 'test.yaml', { baseDir: '/srv/gw' });
}

describe('signatureCheck config', () => {
  it('is on by default with every default', () => {
    const r = load('');
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.signatureCheck).toEqual({
      enabled: true,
      failureRatio: 0.5,
      windowSeconds: 60,
      minVerdicts: 20,
      maxClients: 10_000,
      codeCacheEntries: 10_000,
      codeCacheTtlSeconds: 300,
    });
    expect(r.config.signatureCheck).toEqual(DEFAULTS.signatureCheck);
  });

  it('takes every key', () => {
    const r = load(
      'signatureCheck: { enabled: false, failureRatio: 0, windowSeconds: 10, minVerdicts: 5, maxClients: 7, codeCacheEntries: 8, codeCacheTtlSeconds: 9 }\n',
    );
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.signatureCheck).toEqual({
      enabled: false,
      failureRatio: 0,
      windowSeconds: 10,
      minVerdicts: 5,
      maxClients: 7,
      codeCacheEntries: 8,
      codeCacheTtlSeconds: 9,
    });
  });

  it('refuses bad values with a clear message, every one at once', () => {
    const r = load(
      'signatureCheck: { enabled: "yes", failureRatio: 1, windowSeconds: 0, minVerdicts: 1.5, typo: 1 }\n',
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byPath = Object.fromEntries(r.problems.map((p) => [p.path, p.message]));
    expect(byPath['signatureCheck.enabled']).toBe('must be true or false');
    expect(byPath['signatureCheck.failureRatio']).toBe(
      'must be a number from 0 up to (not including) 1, e.g. 0.5',
    );
    expect(byPath['signatureCheck.windowSeconds']).toBe('must be a positive integer (seconds)');
    expect(byPath['signatureCheck.minVerdicts']).toBe('must be a positive integer (verdicts)');
    expect(JSON.stringify(r.problems)).toContain('typo');
    expect(load('signatureCheck: { failureRatio: -0.1 }\n').ok).toBe(false);
  });
});
