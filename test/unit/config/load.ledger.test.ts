/**
 * The `ledger` section: on by default beside the config file, `false` to run without one, every
 * key checked, and a relative path resolved against the config's folder, never the working one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, loadConfigFile, loadConfigText } from '../../../src/config/index.js';

const ROUTES = 'upstream: http://127.0.0.1:3000\nroutes:\n  "GET /free": 0\n';

function ledgerOf(extra: string, baseDir = '/srv/gw') {
  const r = loadConfigText(`${ROUTES}${extra}`, {}, 'test.yaml', { baseDir });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config.ledger;
}

function problemsOf(extra: string) {
  const r = loadConfigText(`${ROUTES}${extra}`, {}, 'test.yaml', { baseDir: '/srv/gw' });
  if (r.ok) throw new Error('expected the config to be refused');
  return r.problems;
}

describe('ledger config', () => {
  it('is on by default, x402-ledger.sqlite beside the config, with every default', () => {
    expect(ledgerOf('')).toEqual({
      sqlite: { path: '/srv/gw/x402-ledger.sqlite' },
      maxRedemptions: DEFAULTS.ledger.maxRedemptions,
      redeemWindowSeconds: DEFAULTS.ledger.redeemWindowSeconds,
      reconcileIntervalSeconds: DEFAULTS.ledger.reconcileIntervalSeconds,
      confirmations: DEFAULTS.ledger.confirmations,
    });
  });

  it('resolves a relative path against the config folder; keeps an absolute one', () => {
    expect(ledgerOf('ledger: { sqlite: { path: data/book.sqlite } }')).toMatchObject({
      sqlite: { path: '/srv/gw/data/book.sqlite' },
    });
    expect(ledgerOf('ledger: { sqlite: { path: /var/lib/x402/book.sqlite } }')).toMatchObject({
      sqlite: { path: '/var/lib/x402/book.sqlite' },
    });
  });

  it('a config file puts it beside the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'x402-cfg-'));
    try {
      writeFileSync(join(dir, 'gateway.yaml'), ROUTES);
      const r = await loadConfigFile(join(dir, 'gateway.yaml'), {});
      expect(r.ok && r.config.ledger !== false && r.config.ledger.sqlite?.path).toBe(
        join(dir, 'x402-ledger.sqlite'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('in Postgres', () => {
    it('takes a postgres URL instead of a file, with every default', () => {
      const ledger = ledgerOf('ledger: { postgres: { url: "postgres://gw:pw@db:5432/ledger" } }');
      expect(ledger).toEqual({
        postgres: { url: 'postgres://gw:pw@db:5432/ledger' },
        maxRedemptions: DEFAULTS.ledger.maxRedemptions,
        redeemWindowSeconds: DEFAULTS.ledger.redeemWindowSeconds,
        reconcileIntervalSeconds: DEFAULTS.ledger.reconcileIntervalSeconds,
        confirmations: DEFAULTS.ledger.confirmations,
      });
      expect(ledger !== false && 'sqlite' in ledger).toBe(false);
    });

    it('accepts postgresql:// and query parameters, and keeps the other keys', () => {
      expect(
        ledgerOf(
          'ledger:\n  postgres: { url: "postgresql://gw@db/ledger?sslmode=require" }\n  maxRedemptions: 1',
        ),
      ).toMatchObject({
        postgres: { url: 'postgresql://gw@db/ledger?sslmode=require' },
        maxRedemptions: 1,
      });
    });

    it('takes the URL (and its password) from an ${ENV} reference', () => {
      const r = loadConfigText(
        `${ROUTES}ledger: { postgres: { url: "\${LEDGER_URL}" } }`,
        { LEDGER_URL: 'postgres://gw:s3cret@db:5432/ledger' },
        'test.yaml',
        { baseDir: '/srv/gw' },
      );
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      expect(r.config.ledger).toMatchObject({
        postgres: { url: 'postgres://gw:s3cret@db:5432/ledger' },
      });
    });

    it.each([
      [
        'ledger: { sqlite: { path: a.sqlite }, postgres: { url: "postgres://db/ledger" } }',
        'ledger.postgres',
        /not both/,
      ],
      ['ledger: { sqlite: {}, postgres: { url: "postgres://db/ledger" } }', 'ledger', /not both/],
      [
        'ledger: { postgres: { url: "mysql://db/ledger" } }',
        'ledger.postgres.url',
        /postgres:\/\//,
      ],
      ['ledger: { postgres: { url: "postgres://db" } }', 'ledger.postgres.url', /database/],
      ['ledger: { postgres: { url: "db:5432/ledger" } }', 'ledger.postgres.url', /./],
      ['ledger: { postgres: { url: "not a url" } }', 'ledger.postgres.url', /valid URL/],
      // A value of the wrong type fails the whole union: the mapping's shape is named.
      ['ledger: { postgres: { url: 5432 } }', 'ledger', /or \{ postgres: \{ url/],
      ['ledger: { postgres: {} }', 'ledger', /or \{ postgres: \{ url/],
      ['ledger: { postgres: { url: "postgres://db/l", pool: 3 } }', 'ledger.postgres', /pool/],
    ])('refuses %s at %s', (extra, path, message) => {
      const found = problemsOf(extra);
      expect(found.some((p) => p.path.startsWith(path) && message.test(p.message))).toBe(true);
    });
  });

  it('ledger: false runs without one', () => {
    expect(ledgerOf('ledger: false')).toBe(false);
  });

  it.each([
    ['ledger: true', 'ledger', /must be false or a mapping/],
    ['ledger: { sqlite: { path: "" } }', 'ledger.sqlite.path', /must name a file/],
    ['ledger: { maxRedemptions: -1 }', 'ledger.maxRedemptions', /integer from 0/],
    ['ledger: { redeemWindowSeconds: 0 }', 'ledger.redeemWindowSeconds', /./],
    ['ledger: { confirmations: 1.5 }', 'ledger.confirmations', /./],
    ['ledger: { sqlite: { file: x } }', 'ledger.sqlite', /file/],
  ])('refuses %s at %s', (extra, path, message) => {
    const found = problemsOf(extra);
    expect(found.some((p) => p.path.startsWith(path) && message.test(p.message))).toBe(true);
  });
});
