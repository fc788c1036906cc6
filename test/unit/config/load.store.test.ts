/**
 * The `store` section: absent means replay claims in memory, per process; `store.redis` puts them
 * on a shared Redis, with a URL checked for its scheme and host and every key checked.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfigText } from '../../../src/config/index.js';

const ROUTES = 'upstream: http://127.0.0.1:3000\nroutes:\n  "GET /free": 0\n';

function storeOf(extra: string) {
  const r = loadConfigText(`${ROUTES}${extra}`, {}, 'test.yaml', { baseDir: '/srv/gw' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config.store;
}

function problemsOf(extra: string) {
  const r = loadConfigText(`${ROUTES}${extra}`, {}, 'test.yaml', { baseDir: '/srv/gw' });
  if (r.ok) throw new Error('expected the config to be refused');
  return r.problems;
}

describe('store config', () => {
  it('is in memory by default (absent, empty or null)', () => {
    expect(storeOf('')).toEqual({ redis: null });
    expect(storeOf('store: {}')).toEqual({ redis: null });
    expect(storeOf('store:')).toEqual({ redis: null });
    expect(storeOf('store: { redis: null }')).toEqual({ redis: null });
  });

  it('takes a Redis URL, with the default key prefix and command deadline', () => {
    expect(storeOf('store: { redis: { url: "redis://10.0.0.5:6379/2" } }')).toEqual({
      redis: {
        url: 'redis://10.0.0.5:6379/2',
        keyPrefix: DEFAULTS.store.keyPrefix,
        commandTimeoutMs: DEFAULTS.store.commandTimeoutMs,
      },
    });
  });

  it('takes TLS, a password, a unix socket, a prefix and a deadline', () => {
    expect(
      storeOf(
        'store:\n  redis:\n    url: rediss://gw:pw@redis.internal:6380\n    keyPrefix: "prod:"\n    commandTimeoutMs: 250\n',
      ),
    ).toEqual({
      redis: {
        url: 'rediss://gw:pw@redis.internal:6380',
        keyPrefix: 'prod:',
        commandTimeoutMs: 250,
      },
    });
    expect(storeOf('store: { redis: { url: "unix:///run/redis/redis.sock" } }').redis?.url).toBe(
      'unix:///run/redis/redis.sock',
    );
  });

  it.each([
    ['store: { redis: {} }', 'store.redis.url', /required/i],
    [
      'store: { redis: { url: "http://127.0.0.1:6379" } }',
      'store.redis.url',
      /redis:\/\/, rediss:\/\/ or unix:\/\/ URL, got "http:"/,
    ],
    ['store: { redis: { url: "not a url" } }', 'store.redis.url', /is not a valid URL/],
    ['store: { redis: { url: 6379 } }', 'store.redis.url', /must be a redis:\/\/ URL string/],
    ['store: { redis: { url: "redis://h:6379?db=1" } }', 'store.redis.url', /query or fragment/],
    ['store: { redis: { url: "unix://relative/sock" } }', 'store.redis.url', /absolute path/],
    [
      'store: { redis: { url: "redis://h", commandTimeoutMs: 0 } }',
      'store.redis.commandTimeoutMs',
      /./,
    ],
    [
      'store: { redis: { url: "redis://h", password: x } }',
      'store.redis.password',
      /unknown key "password"/,
    ],
    ['store: { memcached: {} }', 'store.memcached', /unknown key "memcached"/],
    ['store: redis', 'store', /./],
  ])('refuses %s at %s', (extra, path, message) => {
    const found = problemsOf(extra);
    const problem = found.find((p) => p.path === path);
    expect(problem, JSON.stringify(found)).toBeDefined();
    expect(problem!.message).toMatch(message);
  });
});
