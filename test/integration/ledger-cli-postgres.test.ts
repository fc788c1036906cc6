/**
 * `x402-gateway ledger …` on a ledger in Postgres (`--config FILE` naming `ledger.postgres`), on a
 * real server (test/helpers/postgres-server.ts). The book is the one the SQLite tests use
 * (test/helpers/ledger-book.ts), written through the store's API; the same book is written to a
 * SQLite file, and report and export must print the same thing for both (but the ledger's name).
 * Then what only a shared book meets: resolve's compare-and-set against a gateway that moves the
 * record between the command's read and its write, a database without a ledger, backup refused
 * with the pg_dump to run, and an offline reconcile pass while a gateway on the same book runs its
 * own (a real devnet: the transfers landed), each record moved once. The connection's password
 * comes from `${ENV}` and is printed nowhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/run.js';
import {
  PostgresLedger,
  redactPostgresUrl,
  SqliteBook,
  type LedgerRecord,
  type PaymentFacts,
} from '../../src/ledger/index.js';
import { captureOutput, type Captured } from '../helpers/capture-output.js';
import {
  account,
  freshAddress,
  paymentV2,
  useDevnet,
  type SignedAuthorization,
} from '../helpers/devnet.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { applyOps, B, bookOps, D, E, facts, P1, QUOTE } from '../helpers/ledger-book.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';
import { tempDir, type TempDir } from '../helpers/temp-dir.js';

/** The password in the configs' URL: the test server trusts loopback, so it is never checked. */
const PASSWORD = 's3cret-pw-never-printed';
const PASSWORD_ENV = 'X402_TEST_LEDGER_PG_PASSWORD';
/** One `now` for both books: the settling record's creation time is relative to it. */
const NOW = Date.now();

const net = useDevnet({ facilitator: {} });

let server: PostgresServer;
let dir: TempDir;
let sqliteFile: string;
let schemas = 0;

beforeAll(async () => {
  process.env[PASSWORD_ENV] = PASSWORD;
  server = await startPostgres();
  dir = tempDir('ledger-cli-pg-');
  sqliteFile = path.join(dir.path, 'ledger.sqlite');
  const book = new SqliteBook(sqliteFile);
  try {
    for (const r of book.write(bookOps(NOW))) expect(r).not.toBeInstanceOf(Error);
  } finally {
    book.close();
  }
}, 60_000);

afterAll(async () => {
  delete process.env[PASSWORD_ENV];
  await server?.remove();
  dir?.remove();
});

interface PgBook {
  /** The gateway's config naming the book, its password from `${ENV}`. */
  readonly config: string;
  /** The URL without the password, as the commands name the book. */
  readonly location: string;
  /** A store on the book (as a running gateway holds one). */
  readonly store: PostgresLedger;
  readonly url: string;
}

const opened: PostgresLedger[] = [];
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
});

/** A fresh schema holding the book (or nothing: `empty`), and a config naming it. */
async function pgBook(
  extraYaml = '',
  holds: 'book' | 'nothing' | 'schema' = 'book',
): Promise<PgBook> {
  schemas += 1;
  const url = await server.createSchema(`cli${schemas}`);
  const store = new PostgresLedger({ url });
  opened.push(store);
  if (holds !== 'nothing') await store.open();
  if (holds === 'book') await applyOps(store, bookOps(NOW));
  const withPassword = url.replace('postgres@', `postgres:\${${PASSWORD_ENV}}@`);
  const config = path.join(dir.path, `gateway-${schemas}.yaml`);
  fs.writeFileSync(
    config,
    `${extraYaml}
upstream: http://127.0.0.1:9
log: { level: silent }
routes:
  "GET /free": 0
ledger: { postgres: { url: "${withPassword}" } }
`,
  );
  // What the commands print: the URL with its password (expanded from the env) taken out.
  const location = redactPostgresUrl(url.replace('postgres@', `postgres:${PASSWORD}@`));
  expect(location).not.toContain(PASSWORD);
  return { config, location, store, url };
}

async function cli(...argv: string[]): Promise<Captured> {
  const r = await captureOutput(() => main(argv));
  expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  return r;
}

async function json(...argv: string[]): Promise<Record<string, unknown>> {
  const r = await cli(...argv);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('ledger report and export on Postgres: what they print for the same book in SQLite', () => {
  let book: PgBook;
  beforeAll(async () => {
    book = await pgBook();
  });

  it.each([
    [[]],
    [['--by', 'route']],
    [['--by', 'day']],
    [['--by', 'payer']],
    [['--by', 'payer', '--state', 'unknown']],
    [['--since', '2025-01-31']],
    [['--since', '24h']],
    [['--state', 'undelivered']],
  ])('report %j --json', async (flags) => {
    const fromPg = await json('ledger', 'report', '--config', book.config, ...flags, '--json');
    const fromSqlite = await json('ledger', 'report', '--ledger', sqliteFile, ...flags, '--json');
    expect(fromPg.ledger).toBe(book.location);
    expect({ ...fromPg, ledger: '', since: '' }).toEqual({
      ...fromSqlite,
      ledger: '',
      since: '',
    });
    // Never empty: the comparison compares something.
    expect(JSON.stringify(fromPg)).toContain('"amount"');
  });

  it('report --state undelivered: the refund candidate, exact above 2^53', async () => {
    const report = await json(
      'ledger',
      'report',
      '--config',
      book.config,
      '--state',
      'undelivered',
      '--json',
    );
    expect(report.payments).toEqual([
      expect.objectContaining({ key: B.key, amount: B.amount, transaction: '0xbbb' }),
    ]);
    const text = await cli('ledger', 'report', '--config', book.config);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`ledger ${book.location}: every record by state, all time`);
    // The text report is the SQLite one but for the ledger's name.
    const sqliteText = await cli('ledger', 'report', '--ledger', sqliteFile);
    expect(text.stdout.replace(book.location, 'L')).toBe(
      sqliteText.stdout.replace(sqliteFile, 'L'),
    );
  });

  it.each(['csv', 'jsonl'])(
    'export --format %s: byte for byte the SQLite export',
    async (format) => {
      const fromPg = await cli('ledger', 'export', '--config', book.config, '--format', format);
      const fromSqlite = await cli('ledger', 'export', '--ledger', sqliteFile, '--format', format);
      expect([fromPg.code, fromPg.stderr]).toEqual([0, '']);
      expect(fromPg.stdout).toBe(fromSqlite.stdout);
      expect(fromPg.stdout.trimEnd().split('\n')).toHaveLength(format === 'csv' ? 9 : 7); // D's detail spans two CSV lines
      if (format === 'jsonl') {
        const records = fromPg.stdout
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as LedgerRecord);
        expect(records.map((r) => r.key)).toEqual((await book.store.list()).map((r) => r.key));
      }
    },
  );

  it('export reads a book larger than a page (1 000 records), in order, each once', async () => {
    const big = await pgBook();
    // 2 500 records, many created in the same millisecond: the pages part on (created_at, key).
    const many: PaymentFacts[] = Array.from({ length: 2_500 }, (_, i) =>
      facts(10_000 + i, { route: QUOTE, payer: P1, amount: String(i + 1) }),
    );
    await Promise.all(many.map((f, i) => big.store.begin(f, NOW + Math.floor(i / 7))));
    const out = path.join(dir.path, 'big.jsonl');
    const r = await cli(
      'ledger',
      'export',
      '--config',
      big.config,
      '--format',
      'jsonl',
      '--out',
      out,
    );
    expect(r).toEqual({ code: 0, stdout: `exported 2507 records to ${out}\n`, stderr: '' });
    const keys = fs
      .readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as LedgerRecord).key);
    expect(keys).toEqual((await big.store.list()).map((x) => x.key));
    expect(new Set(keys).size).toBe(2_507);
  });
});

describe('ledger resolve on Postgres', () => {
  it('moves an unresolved record, with the operator resolution row', async () => {
    const book = await pgBook();
    const note = 'transfer 0xddd found on basescan';
    const r = await cli(
      'ledger',
      'resolve',
      D.key,
      '--as',
      'settled',
      '--note',
      note,
      '--config',
      book.config,
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(`${D.key}: unknown → settled (operator: ${note})\n`);
    const record = (await book.store.get(D.key))!;
    expect(record.state).toBe('settled');
    expect(record.detail).toBe(`operator: ${note}`);
    expect(await book.store.resolutions(D.key)).toEqual([
      { key: D.key, from: 'unknown', to: 'settled', by: 'operator', note, at: record.updatedAt },
    ]);

    // Not unresolved (any more): refused, nothing written.
    const again = await cli(
      'ledger',
      'resolve',
      D.key,
      '--as',
      'failed',
      '--note',
      'x',
      '--config',
      book.config,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `ledger resolve: record ${D.key} is settled: only an unresolved record (settling|unknown) can be resolved\n`,
    );
    const missing = await cli(
      'ledger',
      'resolve',
      '8453:0xno:0xne:0x1',
      '--as',
      'failed',
      '--note',
      'x',
      '--config',
      book.config,
    );
    expect(missing.stderr).toBe(
      `ledger resolve: no record with key 8453:0xno:0xne:0x1 in ${book.location}\n`,
    );
    expect(await book.store.resolutions(D.key)).toHaveLength(1);
  });

  it('a gateway that moves the record between the read and the write wins: nothing overwritten', async () => {
    const book = await pgBook();
    // A gateway's batch holds the record's row lock (its settle answer is being written).
    const gateway = new pg.Client({ connectionString: book.url });
    await gateway.connect();
    try {
      await gateway.query('BEGIN');
      await gateway.query('SELECT state FROM payments WHERE key = $1 FOR UPDATE', [E.key]);
      const resolving = cli(
        'ledger',
        'resolve',
        E.key,
        '--as',
        'failed',
        '--note',
        'looked expired',
        '--config',
        book.config,
      );
      // The command has read `settling` and now waits for the row lock to write its move.
      await vi.waitFor(
        async () => {
          const { rows } = await gateway.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted',
          );
          expect(rows[0]!.n).toBe(1);
        },
        { timeout: 5_000, interval: 20 },
      );
      await gateway.query(
        "UPDATE payments SET state = 'settled', tx = '0xeee', settled_at = $2 WHERE key = $1",
        [E.key, Date.now()],
      );
      await gateway.query('COMMIT');
      const r = await resolving;
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `ledger resolve: record ${E.key} is no longer unresolved (now settled): nothing written\n`,
      );
    } finally {
      await gateway.end();
    }
    expect((await book.store.get(E.key))?.state).toBe('settled');
    expect(await book.store.resolutions(E.key)).toEqual([]);
  });
});

describe('ledger commands on a Postgres database without a ledger, and backup', () => {
  it('a database without the schema: exit 1, and nothing created', async () => {
    const book = await pgBook('', 'nothing');
    for (const argv of [
      ['report'],
      ['export', '--format', 'csv'],
      ['resolve', D.key, '--as', 'failed', '--note', 'x'],
    ]) {
      const r = await cli('ledger', ...argv, '--config', book.config);
      expect(r.code, argv[0]).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^ledger ${argv[0]}: cannot open the ledger at .*: no x402-gateway ledger in this database`,
        ),
      );
    }
    const { rows } = await server.sql(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'cli${schemas}'`,
    );
    expect(rows[0]).toEqual({ n: 0 });
  });

  it('backup: refused (exit 2) with the pg_dump command to run, the password left out', async () => {
    const book = await pgBook();
    const target = path.join(dir.path, 'ledger.dump');
    const r = await cli('ledger', 'backup', target, '--config', book.config);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `the ledger is in Postgres (${book.location}): back up its database with pg_dump, e.g. pg_dump --format=custom --file=${target} '${book.location}'`,
    );
    expect(r.stderr).toContain('usage: x402-gateway ledger SUBCOMMAND');
    expect(fs.existsSync(target)).toBe(false);
  });
});

describe('ledger reconcile --config on Postgres, beside a running gateway on the same book', () => {
  const PRICE = 1_000n;
  let gateway: Harness | undefined;
  afterAll(async () => {
    await gateway?.close();
  });

  /** The record a gateway writes before `/settle`, for this signed authorization. */
  function factsOf(signed: SignedAuthorization, request: unknown, payTo: Address): PaymentFacts {
    const a = signed.authorization;
    const asset = net.devnet.usdc.toLowerCase();
    const payer = a.from.toLowerCase();
    return {
      key: `${net.devnet.chainId}:${asset}:${payer}:${a.nonce}`,
      digest: `digest-${a.nonce}`,
      x402Version: 2,
      route: 'GET /v1/quote',
      method: 'GET',
      path: '/v1/quote',
      network: net.devnet.network.caip2,
      asset,
      decimals: 6,
      payTo: payTo.toLowerCase(),
      payer,
      amount: a.value,
      nonce: a.nonce,
      validBefore: Number(a.validBefore),
      request: JSON.stringify(request),
    };
  }

  async function revenue(h: Harness): Promise<bigint> {
    const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('x402_gateway_revenue_atomic_total{'))
      .reduce((sum, l) => sum + BigInt(l.slice(l.lastIndexOf(' ') + 1)), 0n);
  }

  it('the pass and the gateway reconciler run at once: each record settled once, by one of them', async () => {
    const devnet = net.devnet;
    const rpcUrls = `rpcUrls: { "${devnet.network.caip2}": ${devnet.rpcUrl} }`;
    const book = await pgBook(`${rpcUrls}\nfacilitator: { url: http://127.0.0.1:9 }`, 'schema');
    gateway = await startHarness({
      extraYaml: `ledger: { postgres: { url: "${book.url}" } }\n${rpcUrls}`,
    });
    expect(await revenue(gateway)).toBe(0n);

    // Four payments whose transfers landed, their answers lost: `unknown` in the shared book.
    const payTo = freshAddress();
    const keys: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const { request, signed } = await paymentV2(devnet, account(devnet, i), payTo, PRICE);
      const settled = await net.facilitator.settle(request);
      if (settled.kind !== 'ok' || !settled.value.success) throw new Error('settlement failed');
      const f = factsOf(signed, request, payTo);
      await book.store.begin(f, Date.now() - 60_000);
      await book.store.change(f.key, ['settling'], { state: 'unknown', detail: 'lost answer' });
      keys.push(f.key);
    }

    const [viaGateway, viaCli] = await Promise.all([
      fetch(`${gateway.gateway.adminUrl}/ledger/reconcile`, { method: 'POST' }).then(
        async (r) => (await r.json()) as { outcomes: { settled: number } },
      ),
      cli('ledger', 'reconcile', '--config', book.config, '--json'),
    ]);
    expect(viaCli.code).toBe(0);
    expect(viaCli.stderr).toContain("the ledger is the fleet's shared Postgres book");
    const offline = JSON.parse(viaCli.stdout) as {
      ledger: string;
      outcomes: { settled: number };
      moved: Array<{ key: string; to: string }>;
    };
    expect(offline.ledger).toBe(book.location);
    // Each record moved by exactly one of the two passes.
    expect(offline.outcomes.settled + viaGateway.outcomes.settled).toBe(4);
    expect(offline.moved.filter((m) => m.to === 'settled')).toHaveLength(offline.outcomes.settled);
    for (const key of keys) {
      // (A pass that finds it settled by the other confirms it: one block is enough here.)
      expect(['settled', 'confirmed']).toContain((await book.store.get(key))?.state);
      const moves = (await book.store.resolutions(key)).filter((r) => r.to === 'settled');
      expect(moves, key).toHaveLength(1);
    }
    // The gateway counted what its own pass settled, and only that: the records it owns (the
    // command's moves have no owner, for the next instance to start to adopt).
    expect(await revenue(gateway)).toBe(PRICE * BigInt(viaGateway.outcomes.settled));
    const records = await Promise.all(keys.map((key) => book.store.get(key)));
    expect(records.filter((r) => r?.owner !== undefined)).toHaveLength(viaGateway.outcomes.settled);
    expect(records.filter((r) => r?.owner === undefined)).toHaveLength(offline.outcomes.settled);
  }, 60_000);
});
