/**
 * `server.workers` above 1 needs what every worker can share, refused at validation with the key
 * to set; through the real loader, so the problem carries its key path and line.
 */
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../../src/config/index.js';
import { workerProblems } from '../../../src/config/workers.js';

const base = (extra: string): string => `
server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0, workers: 2 }
upstream: http://127.0.0.1:9
routes:
  "GET /free": { price: "0" }
${extra}`;

const SHARED = `
store: { redis: { url: "redis://127.0.0.1:6379" } }
ledger: { postgres: { url: "postgres://gw@127.0.0.1/x402" } }
`;

function problems(yaml: string): string[] {
  const loaded = loadConfigText(yaml, {}, 'gateway.yaml', { baseDir: '/tmp' });
  return loaded.ok ? [] : loaded.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('server.workers', () => {
  it('accepts two workers on a shared store and a Postgres ledger, with a remote facilitator', () => {
    const loaded = loadConfigText(base(SHARED), {}, 'gateway.yaml', { baseDir: '/tmp' });
    expect(loaded.ok && loaded.config.server.workers).toBe(2);
  });

  it('accepts ledger: false (no book to share)', () => {
    expect(
      problems(base('store: { redis: { url: "redis://127.0.0.1:6379" } }\nledger: false')),
    ).toEqual([]);
  });

  it('refuses in-memory claims, a SQLite ledger and the built-in facilitator, naming what to set', () => {
    const found = problems(base(''));
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(
      /^server\.workers: 2 workers need a shared replay store.*store\.redis\.url/,
    );
    expect(found[1]).toMatch(
      /^server\.workers: 2 workers need a ledger they can all write.*ledger\.postgres\.url/,
    );
    const local = problems(
      base(
        `${SHARED}facilitator:\n  local: { rpcUrl: "http://127.0.0.1:8545", privateKey: "0x${'1'.repeat(64)}" }`,
      ),
    );
    expect(local.join('\n')).toMatch(
      /cannot share the built-in facilitator's settler key.*x402-gateway facilitator/,
    );
  });

  it('resolves auto to one worker per CPU, and defaults to 1 (no cluster, nothing required)', async () => {
    const { availableParallelism } = await import('node:os');
    const auto = loadConfigText(base(SHARED).replace('workers: 2', 'workers: auto'), {}, 'g.yaml', {
      baseDir: '/tmp',
    });
    expect(auto.ok && auto.config.server.workers).toBe(availableParallelism());
    const one = loadConfigText(base('').replace(', workers: 2', ''), {}, 'g.yaml', {
      baseDir: '/tmp',
    });
    expect(one.ok && one.config.server.workers).toBe(1);
  });

  it('refuses anything but a positive integer or auto', () => {
    for (const bad of ['0', '-1', '1.5', 'many']) {
      expect(problems(base(SHARED).replace('workers: 2', `workers: ${bad}`)).join()).toContain(
        'server.workers: must be a positive integer (workers) or "auto"',
      );
    }
  });

  it('needs nothing for one worker', () => {
    const facilitator = { kind: 'local' } as Parameters<typeof workerProblems>[0]['facilitator'];
    expect(workerProblems({ workers: 1, store: { redis: null }, ledger: {}, facilitator })).toEqual(
      [],
    );
  });
});
