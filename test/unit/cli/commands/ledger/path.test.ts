import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ledgerTargetFromArgs } from '../../../../../src/cli/commands/ledger/path.js';
import { UsageError } from '../../../../../src/cli/flags.js';

describe('ledgerTargetFromArgs', () => {
  it('takes --ledger PATH, before --config', async () => {
    expect(await ledgerTargetFromArgs({ ledger: '/var/lib/x402/ledger.sqlite' })).toEqual({
      kind: 'sqlite',
      path: '/var/lib/x402/ledger.sqlite',
    });
    expect(await ledgerTargetFromArgs({ ledger: 'l.sqlite', config: 'gateway.yaml' })).toEqual({
      kind: 'sqlite',
      path: 'l.sqlite',
    });
  });

  it('is a usage error without --ledger or --config, or with an empty --ledger', async () => {
    await expect(ledgerTargetFromArgs({})).rejects.toThrow(UsageError);
    await expect(ledgerTargetFromArgs({ ledger: ' ' })).rejects.toThrow(UsageError);
  });

  it('reads the path from --config: beside the config file by default, or as configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'x402-path-'));
    try {
      const base = 'upstream: http://127.0.0.1:9\nroutes:\n  "GET /free": 0\n';
      writeFileSync(join(dir, 'a.yaml'), base);
      expect(await ledgerTargetFromArgs({ config: join(dir, 'a.yaml') })).toEqual({
        kind: 'sqlite',
        path: join(dir, 'x402-ledger.sqlite'),
      });
      writeFileSync(join(dir, 'b.yaml'), `${base}ledger: { sqlite: { path: data/book.sqlite } }\n`);
      expect(await ledgerTargetFromArgs({ config: join(dir, 'b.yaml') })).toEqual({
        kind: 'sqlite',
        path: join(dir, 'data', 'book.sqlite'),
      });
      writeFileSync(join(dir, 'c.yaml'), `${base}ledger: false\n`);
      await expect(ledgerTargetFromArgs({ config: join(dir, 'c.yaml') })).rejects.toThrow(
        /ledger: false/,
      );
      // A ledger in Postgres: its URL (the password shown nowhere but in `url`), ${ENV} expanded.
      writeFileSync(
        join(dir, 'd.yaml'),
        `${base}ledger: { postgres: { url: "postgres://gw:\${PG_SECRET_FOR_TEST}@db/ledger" } }\n`,
      );
      process.env['PG_SECRET_FOR_TEST'] = 's3cret';
      try {
        expect(await ledgerTargetFromArgs({ config: join(dir, 'd.yaml') })).toEqual({
          kind: 'postgres',
          url: 'postgres://gw:s3cret@db/ledger',
          location: 'postgres://gw@db/ledger',
        });
      } finally {
        delete process.env['PG_SECRET_FOR_TEST'];
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
