import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ledgerPathFromArgs } from '../../../../../src/cli/commands/ledger/path.js';
import { UsageError } from '../../../../../src/cli/flags.js';

describe('ledgerPathFromArgs', () => {
  it('takes --ledger PATH, before --config', async () => {
    expect(await ledgerPathFromArgs({ ledger: '/var/lib/x402/ledger.sqlite' })).toBe(
      '/var/lib/x402/ledger.sqlite',
    );
    expect(await ledgerPathFromArgs({ ledger: 'l.sqlite', config: 'gateway.yaml' })).toBe(
      'l.sqlite',
    );
  });

  it('is a usage error without --ledger or --config, or with an empty --ledger', async () => {
    await expect(ledgerPathFromArgs({})).rejects.toThrow(UsageError);
    await expect(ledgerPathFromArgs({ ledger: ' ' })).rejects.toThrow(UsageError);
  });

  it('reads the path from --config: beside the config file by default, or as configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'x402-path-'));
    try {
      const base = 'upstream: http://127.0.0.1:9\nroutes:\n  "GET /free": 0\n';
      writeFileSync(join(dir, 'a.yaml'), base);
      expect(await ledgerPathFromArgs({ config: join(dir, 'a.yaml') })).toBe(
        join(dir, 'x402-ledger.sqlite'),
      );
      writeFileSync(join(dir, 'b.yaml'), `${base}ledger: { sqlite: { path: data/book.sqlite } }\n`);
      expect(await ledgerPathFromArgs({ config: join(dir, 'b.yaml') })).toBe(
        join(dir, 'data', 'book.sqlite'),
      );
      writeFileSync(join(dir, 'c.yaml'), `${base}ledger: false\n`);
      await expect(ledgerPathFromArgs({ config: join(dir, 'c.yaml') })).rejects.toThrow(
        /ledger: false/,
      );
      // A ledger in Postgres: the commands read a SQLite file, and say they do not support it yet.
      writeFileSync(
        join(dir, 'd.yaml'),
        `${base}ledger: { postgres: { url: "postgres://gw:s3cret@db/ledger" } }\n`,
      );
      const refused = ledgerPathFromArgs({ config: join(dir, 'd.yaml') });
      await expect(refused).rejects.toThrow(UsageError);
      await expect(refused).rejects.toThrow(/Postgres .*do not support Postgres yet/);
      await expect(refused).rejects.not.toThrow(/s3cret/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
