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
      expect(r.ok && r.config.ledger !== false && r.config.ledger.sqlite.path).toBe(
        join(dir, 'x402-ledger.sqlite'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
