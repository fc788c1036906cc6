/**
 * `x402-gateway ledger …` through the dispatcher (`main(argv)`), against a SQLite ledger built in a
 * temp folder with the book's own writes (test/helpers/ledger-book.ts; the same book in Postgres:
 * test/integration/ledger-cli-postgres.test.ts): reports with exact atomic and token amounts (one above
 * 2^53), the undelivered list, exports that parse back to the records, an operator's resolution,
 * backups, and the exit codes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../../src/cli/run.js';
import { captureOutput, type Captured } from '../../../helpers/capture-output.js';
import { SqliteBook, type LedgerRecord, type WriteOp } from '../../../../src/ledger/index.js';
import {
  A,
  B,
  BIG,
  bookOps,
  C,
  D,
  DAI,
  delivered,
  E,
  facts,
  G,
  ITEMS,
  P1,
  P2,
  QUOTE,
  USDC,
  USDC_SEPOLIA,
  DAY1,
} from '../../../helpers/ledger-book.js';

function buildLedger(book: SqliteBook): void {
  for (const r of book.write(bookOps())) expect(r).not.toBeInstanceOf(Error);
}

let dir: string;
let ledger: string;
/** An open writable connection, as a running gateway would hold. */
let book: SqliteBook;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledger-cli-'));
  ledger = path.join(dir, 'ledger.sqlite');
  book = new SqliteBook(ledger);
  buildLedger(book);
});

afterEach(() => {
  book.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Run the CLI, capturing what it wrote. */
function cli(...argv: string[]): Promise<Captured> {
  return captureOutput(() => main(argv));
}

async function json(...argv: string[]): Promise<Record<string, unknown>> {
  const r = await cli(...argv);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const total = (
  network: string,
  asset: string,
  decimals: number,
  count: number,
  amount: string,
  amountUnits: string,
) => ({ network, asset, decimals, count, amount, amountUnits });

/** A table row: its cells separated by runs of spaces. */
const row = (...cells: string[]) =>
  new RegExp(`^${cells.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join(' +')}$`, 'm');

const PAID_USDC = '9007199258740993'; // A + B + C
const PAID_USDC_UNITS = '9007199258.740993';

describe('ledger report', () => {
  it('by state (the default): every state, per network and asset, in atomic and token units', async () => {
    const report = await json('ledger', 'report', '--ledger', ledger, '--json');
    expect(report.by).toBe('state');
    expect(report.since).toBeNull();
    expect(report.groups).toEqual([
      { group: 'released', ...total('eip155:8453', USDC, 6, 1, '1000', '0.001') },
      { group: 'settling', ...total('eip155:8453', USDC, 6, 1, '700', '0.0007') },
      { group: 'unknown', ...total('eip155:84532', USDC_SEPOLIA, 6, 1, '1000000', '1') },
      { group: 'settled', ...total('eip155:8453', DAI, 18, 1, '1230000000000000000', '1.23') },
      {
        group: 'settled',
        ...total('eip155:8453', USDC, 6, 2, '9007199256240993', '9007199256.240993'),
      },
      { group: 'confirmed', ...total('eip155:8453', USDC, 6, 1, '2500000', '2.5') },
    ]);
    expect(report.paid).toEqual([
      total('eip155:8453', DAI, 18, 1, '1230000000000000000', '1.23'),
      total('eip155:8453', USDC, 6, 3, PAID_USDC, PAID_USDC_UNITS),
    ]);
  });

  it('prints the same for humans: a table with token and atomic amounts', async () => {
    const { code, stdout, stderr } = await cli('ledger', 'report', '--ledger', ledger);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toContain(`ledger ${ledger}: every record by state, all time`);
    expect(stdout).toMatch(row('STATE', 'NETWORK', 'ASSET', 'COUNT', 'AMOUNT', 'ATOMIC'));
    expect(stdout).toMatch(
      row('settled', 'eip155:8453', USDC, '2', '9007199256.240993', '9007199256240993'),
    );
    expect(stdout).toMatch(row('settling', 'eip155:8453', USDC, '1', '0.0007', '700'));
    expect(stdout).toMatch(row('eip155:8453', USDC, '3', PAID_USDC_UNITS, PAID_USDC));
  });

  it('by route: only the paid records', async () => {
    const report = await json('ledger', 'report', '--ledger', ledger, '--by', 'route', '--json');
    expect(report.states).toEqual(['settled', 'confirmed', 'disputed']);
    expect(report.groups).toEqual([
      { group: ITEMS, ...total('eip155:8453', USDC, 6, 1, BIG, '9007199254.740993') },
      { group: QUOTE, ...total('eip155:8453', DAI, 18, 1, '1230000000000000000', '1.23') },
      { group: QUOTE, ...total('eip155:8453', USDC, 6, 2, '4000000', '4') },
    ]);
    const text = await cli('ledger', 'report', '--ledger', ledger, '--by', 'route');
    expect(text.stdout).toContain('settled|confirmed|disputed records by route');
    expect(text.stdout).toMatch(
      row(ITEMS, 'eip155:8453', USDC, '1', '9007199254.740993', '9007199254740993'),
    );
  });

  it('by day (UTC, the day the record was made): only the paid records', async () => {
    const report = await json('ledger', 'report', '--ledger', ledger, '--by', 'day', '--json');
    expect(report.groups).toEqual([
      {
        group: '2025-01-30',
        ...total('eip155:8453', USDC, 6, 2, '9007199256240993', '9007199256.240993'),
      },
      { group: '2025-01-31', ...total('eip155:8453', DAI, 18, 1, '1230000000000000000', '1.23') },
      { group: '2025-01-31', ...total('eip155:8453', USDC, 6, 1, '2500000', '2.5') },
    ]);
  });

  it('by payer, and --state narrows to one state', async () => {
    const paid = await json('ledger', 'report', '--ledger', ledger, '--by', 'payer', '--json');
    expect(paid.groups).toEqual([
      { group: P1, ...total('eip155:8453', DAI, 18, 1, '1230000000000000000', '1.23') },
      { group: P1, ...total('eip155:8453', USDC, 6, 2, '4000000', '4') },
      { group: P2, ...total('eip155:8453', USDC, 6, 1, BIG, '9007199254.740993') },
    ]);
    const unknown = await json(
      'ledger',
      'report',
      '--ledger',
      ledger,
      '--by',
      'payer',
      '--state',
      'unknown',
      '--json',
    );
    expect(unknown.states).toEqual(['unknown']);
    expect(unknown.groups).toEqual([
      { group: P2, ...total('eip155:84532', USDC_SEPOLIA, 6, 1, '1000000', '1') },
    ]);
    expect(unknown.paid).toEqual([]);
  });

  it('--since takes a duration back from now or an ISO date', async () => {
    const recent = await json('ledger', 'report', '--ledger', ledger, '--since', '24h', '--json');
    expect(recent.since).toEqual(expect.any(String));
    expect(recent.groups).toEqual([
      { group: 'settling', ...total('eip155:8453', USDC, 6, 1, '700', '0.0007') },
    ]);
    const day2 = await json(
      'ledger',
      'report',
      '--ledger',
      ledger,
      '--since',
      '2025-01-31',
      '--json',
    );
    expect(day2.since).toBe('2025-01-31T00:00:00.000Z');
    expect((day2.groups as Array<{ group: string }>).map((g) => g.group)).toEqual([
      'settling',
      'unknown',
      'settled',
      'confirmed',
    ]);
    const none = await cli('ledger', 'report', '--ledger', ledger, '--since', '1h');
    expect(none.stdout).toContain('no records');
  });

  it('--state undelivered lists the paid payments never delivered (refund candidates)', async () => {
    const report = await json(
      'ledger',
      'report',
      '--ledger',
      ledger,
      '--state',
      'undelivered',
      '--json',
    );
    expect(report.payments).toEqual([
      {
        key: B.key,
        state: 'settled',
        payer: P2,
        network: 'eip155:8453',
        asset: USDC,
        decimals: 6,
        amount: BIG,
        amountUnits: '9007199254.740993',
        transaction: '0xbbb',
        settledAt: new Date(DAY1 + 3_601_000).toISOString(),
        route: ITEMS,
        method: 'GET',
        path: '/v1/items/7',
      },
    ]);
    expect(report.totals).toEqual([total('eip155:8453', USDC, 6, 1, BIG, '9007199254.740993')]);

    const text = await cli('ledger', 'report', '--ledger', ledger, '--state', 'undelivered');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('1 paid payment never delivered (refund candidates)');
    expect(text.stdout).toMatch(
      row(
        B.key,
        P2,
        '9007199254.740993',
        BIG,
        'eip155:8453',
        USDC,
        '0xbbb',
        new Date(DAY1 + 3_601_000).toISOString(),
        ITEMS,
        '/v1/items/7',
      ),
    );
  });

  it('reads a ledger the open connection is still writing', async () => {
    book.write([delivered(B, Date.now())]);
    const report = await json(
      'ledger',
      'report',
      '--ledger',
      ledger,
      '--state',
      'undelivered',
      '--json',
    );
    expect(report.payments).toEqual([]);
  });
});

/** Every record, oldest first, as the book has it. */
const records = () => book.list();

/** RFC 4180: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      rows.push([...fields, field]);
      fields = [];
      field = '';
    } else field += c;
  }
  expect(field).toBe('');
  expect(fields).toEqual([]);
  return rows;
}

const NUMERIC = new Set([
  'x402Version',
  'decimals',
  'validBefore',
  'createdAt',
  'updatedAt',
  'settledAt',
  'confirmedAt',
  'deliveredAt',
  'redemptions',
]);

describe('ledger export', () => {
  it('CSV: a header row, then every record, quoted where needed; parses back to the records', async () => {
    const { code, stdout, stderr } = await cli(
      'ledger',
      'export',
      '--ledger',
      ledger,
      '--format',
      'csv',
    );
    expect([code, stderr]).toEqual([0, '']);
    const [header, ...rows] = parseCsv(stdout);
    expect(header).toContain('amount');
    const parsed = rows.map((cells) => {
      const r: Record<string, unknown> = {};
      header!.forEach((name, i) => {
        const v = cells[i]!;
        r[name] = v === '' ? undefined : NUMERIC.has(name) ? Number(v) : v;
      });
      return r;
    });
    expect(parsed).toEqual(records());
    expect(parsed).toHaveLength(7);
    // The amount above 2^53 is decimal text, exact.
    expect(parsed.find((r) => r.key === B.key)!.amount).toBe(BIG);
    expect(stdout).toContain('"facilitator said:\n""timeout"", retry"');
  });

  it('JSON Lines: one record per line, amounts as strings; parses back to the records', async () => {
    const { code, stdout } = await cli('ledger', 'export', '--ledger', ledger, '--format', 'jsonl');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    const parsed = lines.map((l) => {
      const r = JSON.parse(l) as Record<string, unknown>;
      expect(typeof r.amount).toBe('string');
      for (const [k, v] of Object.entries(r)) if (v === null) r[k] = undefined;
      return r as unknown as LedgerRecord;
    });
    expect(parsed).toEqual(records());
  });

  it('streams a large ledger in chunks, waiting for the output to drain', async () => {
    const many = Array.from({ length: 3000 }, (_, i) =>
      facts(1000 + i, { route: QUOTE, payer: P1, amount: String(i) }),
    );
    book.write(many.map((f, i): WriteOp => ({ op: 'begin', facts: f, at: DAY1 + i })));
    const chunks: string[] = [];
    // A slow reader: every write fills the buffer, and 'drain' comes later.
    const out = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        chunks.push(String(chunk));
        setImmediate(() => process.stdout.emit('drain'));
        return false;
      });
    let code: number;
    try {
      code = await main(['ledger', 'export', '--ledger', ledger, '--format', 'jsonl']);
    } finally {
      out.mockRestore();
    }
    expect(code).toBe(0);
    expect(chunks.length).toBeGreaterThan(3);
    const keys = chunks
      .join('')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as LedgerRecord).key);
    expect(keys).toEqual(records().map((r) => r.key));
    expect(keys).toHaveLength(3007);
  });

  it('--since, and --out FILE (never overwritten)', async () => {
    const out = path.join(dir, 'export.jsonl');
    const first = await cli(
      'ledger',
      'export',
      '--ledger',
      ledger,
      '--format',
      'jsonl',
      '--since',
      '2025-01-31',
      '--out',
      out,
    );
    expect(first).toEqual({ code: 0, stdout: `exported 4 records to ${out}\n`, stderr: '' });
    const keys = fs
      .readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as LedgerRecord).key);
    expect(keys).toEqual([C.key, D.key, G.key, E.key]);

    const before = fs.readFileSync(out, 'utf8');
    const again = await cli(
      'ledger',
      'export',
      '--ledger',
      ledger,
      '--format',
      'csv',
      '--out',
      out,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`ledger export: ${out} already exists: refusing to overwrite it\n`);
    expect(fs.readFileSync(out, 'utf8')).toBe(before);
  });
});

describe('ledger resolve', () => {
  it('moves an unresolved record and adds an operator resolution row', async () => {
    const note = 'transfer 0xddd found on basescan';
    const { code, stdout, stderr } = await cli(
      'ledger',
      'resolve',
      D.key.toUpperCase(),
      '--as',
      'settled',
      '--note',
      note,
      '--ledger',
      ledger,
    );
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toBe(`${D.key}: unknown → settled (operator: ${note})\n`);
    const record = book.get(D.key)!;
    expect(record.state).toBe('settled');
    expect(record.settledAt).toEqual(expect.any(Number));
    expect(record.detail).toBe(`operator: ${note}`);
    expect(book.resolutions(D.key)).toEqual([
      { key: D.key, from: 'unknown', to: 'settled', by: 'operator', note, at: record.updatedAt },
    ]);
  });

  it('resolves a settling record as failed', async () => {
    const r = await cli(
      'ledger',
      'resolve',
      E.key,
      '--as',
      'failed',
      '--note',
      'nonce unused, expired',
      '--ledger',
      ledger,
    );
    expect(r.code).toBe(0);
    expect(book.get(E.key)!.state).toBe('failed');
    expect(book.resolutions(E.key)).toHaveLength(1);
  });

  it('refuses a record that is not unresolved, and a key it does not hold (exit 1)', async () => {
    const settled = await cli(
      'ledger',
      'resolve',
      A.key,
      '--as',
      'failed',
      '--note',
      'oops',
      '--ledger',
      ledger,
    );
    expect(settled.code).toBe(1);
    expect(settled.stderr).toBe(
      `ledger resolve: record ${A.key} is settled: only an unresolved record (settling|unknown) can be resolved\n`,
    );
    expect(book.get(A.key)!.state).toBe('settled');
    expect(book.resolutions(A.key)).toEqual([]);

    const missing = await cli(
      'ledger',
      'resolve',
      '8453:0xno:0xne:0x1',
      '--as',
      'failed',
      '--note',
      'x',
      '--ledger',
      ledger,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `ledger resolve: no record with key 8453:0xno:0xne:0x1 in ${ledger}\n`,
    );
  });

  it('needs --note and --as settled|failed (exit 2)', async () => {
    for (const argv of [
      ['--as', 'settled'],
      ['--as', 'settled', '--note', '  '],
      ['--note', 'x'],
      ['--as', 'confirmed', '--note', 'x'],
    ]) {
      const r = await cli('ledger', 'resolve', D.key, ...argv, '--ledger', ledger);
      expect(r.code, argv.join(' ')).toBe(2);
    }
    expect(book.get(D.key)!.state).toBe('unknown');
  });
});

describe('ledger backup', () => {
  it('copies the ledger while a connection writes; the copy reads back the same records', async () => {
    const copy = path.join(dir, 'copy.sqlite');
    const { code, stdout, stderr } = await cli('ledger', 'backup', copy, '--ledger', ledger);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout).toMatch(new RegExp(`^backed up ${ledger} to ${copy} \\(\\d+ bytes\\)\n$`));
    const restored = new SqliteBook(copy, { readonly: true });
    try {
      expect(restored.list()).toEqual(records());
      expect(restored.attempts(A.key)).toEqual(book.attempts(A.key));
    } finally {
      restored.close();
    }
  });

  it('refuses to overwrite an existing file', async () => {
    const target = path.join(dir, 'taken.sqlite');
    fs.writeFileSync(target, 'precious');
    const r = await cli('ledger', 'backup', target, '--ledger', ledger);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ledger backup: ${target} already exists: refusing to overwrite it\n`);
    expect(fs.readFileSync(target, 'utf8')).toBe('precious');
  });
});

describe('ledger: problems exit 1 with one line', () => {
  it('a ledger file that does not exist is not created', async () => {
    const missing = path.join(dir, 'missing.sqlite');
    for (const argv of [
      ['report'],
      ['export', '--format', 'csv'],
      ['resolve', D.key, '--as', 'failed', '--note', 'x'],
      ['backup', path.join(dir, 'b.sqlite')],
    ]) {
      const r = await cli('ledger', ...argv, '--ledger', missing);
      expect(r.code, argv[0]).toBe(1);
      expect(r.stderr).toBe(
        `ledger ${argv[0]}: no ledger at ${missing}: the file does not exist\n`,
      );
    }
    expect(fs.existsSync(missing)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'b.sqlite'))).toBe(false);
  });

  it('a file that is not a ledger', async () => {
    const junk = path.join(dir, 'junk.sqlite');
    fs.writeFileSync(junk, 'not a database, just text long enough to have a header or two');
    const r = await cli('ledger', 'report', '--ledger', junk);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ledger report: cannot open the ledger at .*junk\.sqlite: .+\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });
});

describe('ledger --config: the ledger the gateway config names', () => {
  it('reads the config, and names a config that cannot be read', async () => {
    const missing = await cli('ledger', 'report', '--config', path.join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read config file/);
  });
});

describe('ledger: usage errors exit 2 with the usage text', () => {
  it.each([
    [[]],
    [['frob']],
    [['report']],
    [['report', '--ledger', 'L', '--by', 'week']],
    [['report', '--ledger', 'L', '--state', 'paid']],
    [['report', '--ledger', 'L', '--state', 'undelivered', '--by', 'route']],
    [['report', '--ledger', 'L', '--since', 'yesterday']],
    [['report', '--ledger', 'L', '--frob']],
    [['report', '--ledger', 'L', 'extra']],
    [['export', '--ledger', 'L']],
    [['export', '--ledger', 'L', '--format', 'xml']],
    [['resolve', '--ledger', 'L', '--as', 'failed', '--note', 'x']],
    [['backup', '--ledger', 'L']],
    [['backup', '--ledger']],
  ])('ledger %j', async (argv) => {
    const r = await cli('ledger', ...argv);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('usage: x402-gateway ledger SUBCOMMAND');
  });

  it('--help shows the ledger commands', async () => {
    const r = await cli('ledger', '--help');
    expect(r.code).toBe(0);
    // The ledger command's own usage (x402-gateway COMMAND --help), not the whole CLI's.
    expect(r.stdout).toContain('usage: x402-gateway ledger SUBCOMMAND');
    expect(r.stdout).toContain('report [--since DATE|DURATION]');
    expect(r.stdout).toContain('resolve KEY --as settled|failed --note TEXT');
  });
});
