import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  formatProblems,
  loadConfigText,
  planReload,
  RELOADABLE_KEYS,
  RESTART_ONLY_KEYS,
  type GatewayConfig,
} from '../../../src/config/index.js';

const PAY_TO = '0x209693bc6afc0c5328ba36faf03c514ef312287c';
const HTTP_YAML = `
server:
  listen: 127.0.0.1:8402
  admin: 127.0.0.1:9402
facilitator:
  url: https://facilitator.example
  headers: { authorization: "Bearer a" }
payment: { network: base-sepolia, payTo: "${PAY_TO}" }
upstream: http://127.0.0.1:3000
rpcUrls: { "eip155:84532": "http://127.0.0.1:8545" }
log: { level: info }
routes:
  "GET /v1/quote": "$0.001"
  "GET /v1/health": 0
`;
const LOCAL_YAML = HTTP_YAML.replace(
  `  url: https://facilitator.example
  headers: { authorization: "Bearer a" }`,
  `  local:
    rpcUrl: http://127.0.0.1:8545
    privateKey: "0x${'1'.repeat(64)}"`,
);

function load(yaml: string): GatewayConfig {
  const result = loadConfigText(yaml, {}, 'test.yaml', { baseDir: '/tmp' });
  if (!result.ok) throw new Error(formatProblems(result.problems, 'test.yaml'));
  return result.config;
}

/** Every leaf key path of a config (arrays and `routes` as one value each). */
function leafPaths(value: unknown, path = ''): string[] {
  if (path === 'routes' || typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [path];
  }
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, path === '' ? k : `${path}.${k}`));
}

const covers = (key: string, path: string): boolean => path === key || path.startsWith(`${key}.`);

describe('planReload', () => {
  it('every key of the config is reloadable or restart-only (HTTP and built-in facilitator)', () => {
    for (const yaml of [HTTP_YAML, LOCAL_YAML]) {
      for (const path of leafPaths(load(yaml))) {
        const known =
          path === 'facilitator.kind' ||
          RELOADABLE_KEYS.some((k) => covers(k, path)) ||
          RESTART_ONLY_KEYS.some((k) => covers(k, path)) ||
          // The built-in facilitator's keys sit flat beside `kind`; they are `facilitator.local`.
          (yaml === LOCAL_YAML && path.startsWith('facilitator.'));
        expect(known, path).toBe(true);
      }
    }
  });

  it('applies prices, timeouts, the log level, rate limits and the facilitator address', () => {
    const current = load(HTTP_YAML);
    const next = load(
      HTTP_YAML.replace('"$0.001"', '"$0.002"')
        .replace('level: info', 'level: warn')
        .replace('https://facilitator.example', 'https://other.example')
        .replace('Bearer a', 'Bearer b')
        .replace(
          'upstream: http://127.0.0.1:3000',
          'upstream: http://127.0.0.1:3000\nupstreamTimeoutMs: 9000',
        )
        .replace(
          '  admin: 127.0.0.1:9402',
          '  admin: 127.0.0.1:9402\n  limits: { maxInFlight: 10, maxClientShare: 0.5, bodyIdleTimeoutMs: 1000 }',
        ),
    );
    const plan = planReload(current, next);
    expect(plan.refused).toEqual([]);
    expect([...plan.changed].sort()).toEqual(
      [
        'facilitator.headers',
        'facilitator.url',
        'log.level',
        'routes',
        'server.limits.bodyIdleTimeoutMs',
        'server.limits.maxClientShare',
        'server.limits.maxInFlight',
        'upstreamTimeoutMs',
      ].sort(),
    );
    expect(plan.config).toBe(next);
  });

  it('refuses each restart-only key by name and keeps its running value; the rest applies', () => {
    const current = load(HTTP_YAML);
    const next = load(
      HTTP_YAML.replace('listen: 127.0.0.1:8402', 'listen: 127.0.0.1:8403')
        .replace('upstream: http://127.0.0.1:3000', 'upstream: http://127.0.0.1:3001')
        .replace('"http://127.0.0.1:8545"', '"http://127.0.0.1:8546"')
        .replace('"$0.001"', '"$0.003"')
        .replace(
          'log: { level: info }',
          'log: { level: info }\nledger: false\nreplay: { marginSeconds: 60 }',
        ),
    );
    const plan = planReload(current, next);
    expect([...plan.refused].sort()).toEqual(
      ['ledger', 'replay', 'rpcUrls', 'server.listen', 'upstream'].sort(),
    );
    expect(plan.changed).toEqual(['routes']);
    expect(plan.config.server.listen).toEqual(current.server.listen);
    expect(plan.config.upstream).toBe(current.upstream);
    expect(plan.config.rpcUrls).toEqual(current.rpcUrls);
    expect(plan.config.ledger).toEqual(current.ledger);
    expect(plan.config.replay).toEqual(current.replay);
    expect(plan.config.routes).toBe(next.routes);
    expect(Object.isFrozen(plan.config) && Object.isFrozen(plan.config.server)).toBe(true);
  });

  it('the built-in facilitator, and a switch to or from it, is one restart-only key', () => {
    const http = load(HTTP_YAML);
    const local = load(LOCAL_YAML);
    const toLocal = planReload(http, local);
    expect(toLocal.refused).toEqual(['facilitator.local']);
    expect(toLocal.config.facilitator).toBe(http.facilitator);
    const timeout = planReload(
      local,
      load(LOCAL_YAML.replace('  local:', '  settleTimeoutMs: 20000\n  local:')),
    );
    expect(timeout.refused).toEqual(['facilitator.local']);
    expect(timeout.config.facilitator).toBe(local.facilitator);
  });

  it('the same file changes nothing', () => {
    const plan = planReload(load(HTTP_YAML), load(HTTP_YAML));
    expect(plan).toMatchObject({ changed: [], refused: [] });
  });

  it('docs/operations.md lists every reloadable and every restart-only key', () => {
    const docs = readFileSync(
      fileURLToPath(new URL('../../../docs/operations.md', import.meta.url)),
      'utf8',
    );
    for (const key of [...RELOADABLE_KEYS, ...RESTART_ONLY_KEYS]) {
      expect(docs, key).toContain(`\`${key}\``);
    }
  });
});
