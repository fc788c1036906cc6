/**
 * A cost model for the ledger's write path, single-threaded, on the SQL and the file system alone
 * (no worker thread, no messages): what a paid request's durable writes cost per payment under
 * today's design and under three write-ahead-journal designs, prototyped here and NOT used by the
 * gateway. `batch` payments share each group commit (the gateway under load: ~4 per commit at
 * 32 connections; bench/micro/ledger.ts at 32 concurrent: ~32). Fresh SQLite file each run.
 *
 *   node --import tsx bench/micro/ledger-designs.ts <design> [payments=20000] [batch=32]
 *
 * designs:
 *   sql         today: SqliteBook.write, WAL, synchronous=FULL; one commit for the batch's begins,
 *               one for its changes to settled + attempt rows (two durable points per payment)
 *   apply-now   the same ops applied at once with synchronous=NORMAL, each batch also appended
 *               to a journal file and fdatasync'd (the journal is the durability)
 *   long-tx     as apply-now, but the SQLite transaction stays open across batches and commits
 *               every ~1000 payments (then the WAL is fsync'd and the journal truncated)
 *   bulk        journal lines fdatasync'd per batch; SQLite gets each payment once, folded
 *               (begin → settled → attempt = one insert + one attempt row), in transactions of
 *               ~1000 payments (NORMAL, then one fsync'd commit, then the journal truncated).
 *               Idealised: no conflict checks, no reads, no pending-state map.
 *   primitives  the unit costs: a one-page SQLite commit (FULL) and a 1.5 KB journal append +
 *               fdatasync (appended, and overwriting a preallocated file)
 *
 * Prints payments/s and the process's CPU µs per payment (user, system).
 */
import { randomBytes } from 'node:crypto';
import { fdatasyncSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBook, type PaymentFacts, type WriteOp } from '../../src/ledger/index.js';

const design = process.argv[2] ?? 'sql';
const total = Number(process.argv[3] ?? 20_000);
const batch = Number(process.argv[4] ?? 32);
const APPLY_EVERY = 1_000;
const TX = `0x${'ab'.repeat(32)}`;

const dir = mkdtempSync(join(tmpdir(), 'x402-ledger-designs-'));
const book = new SqliteBook(join(dir, 'book.sqlite'));
const journalFd = openSync(join(dir, 'book.journal'), 'a');
let seq = 0;

function journal(lines: readonly unknown[]): void {
  let text = '';
  seq++;
  for (const line of lines) text += `${seq} ${JSON.stringify(line)}\n`;
  writeSync(journalFd, text);
  fdatasyncSync(journalFd);
}

/** Make everything SQLite holds durable (one fsync'd commit), then drop the journal. */
function durableThenTruncate(): void {
  book.db.pragma('synchronous = FULL');
  book.db.prepare('UPDATE schema_version SET version = version').run();
  book.db.pragma('synchronous = NORMAL');
  ftruncateSync(journalFd, 0);
}

const request = JSON.stringify({ x402Version: 2, pad: 'x'.repeat(900) });
const payments: PaymentFacts[] = Array.from({ length: total }, (_, i) => {
  const nonce = `0x${randomBytes(32).toString('hex')}`;
  return {
    key: `84532:0xasset:0xpayer:${nonce}`,
    digest: `d${i}`,
    x402Version: 2,
    route: 'GET /paid',
    method: 'GET',
    path: '/paid',
    network: 'eip155:84532',
    asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
    decimals: 6,
    payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
    payer: '0x2222222222222222222222222222222222222222',
    amount: '1000',
    nonce,
    validBefore: 2_000_000_000,
    request,
  };
});

function ends(facts: readonly PaymentFacts[], first: number, at: number): WriteOp[] {
  return facts.flatMap((f, j): WriteOp[] => [
    {
      op: 'change',
      key: f.key,
      from: ['settling', 'unknown'],
      change: { state: 'settled', transaction: TX, at },
    },
    {
      op: 'attempt',
      attempt: {
        key: f.key,
        requestId: `r${first + j}`,
        outcome: 'paid',
        status: 200,
        served: true,
        delivered: true,
        startedAt: at,
        endedAt: at,
      },
    },
  ]);
}

function perOp(journaled: boolean, longTx: boolean): void {
  let sinceCommit = 0;
  if (longTx) book.db.exec('BEGIN IMMEDIATE');
  for (let s = 0; s < total; s += batch) {
    const facts = payments.slice(s, s + batch);
    const at = Date.now();
    const begins: WriteOp[] = facts.map((f) => ({ op: 'begin', facts: f, at }));
    book.write(begins);
    if (journaled) journal(begins);
    const rest = ends(facts, s, at);
    book.write(rest);
    if (journaled) journal(rest);
    if (longTx && (sinceCommit += facts.length) >= APPLY_EVERY) {
      sinceCommit = 0;
      book.db.exec('COMMIT');
      durableThenTruncate();
      book.db.exec('BEGIN IMMEDIATE');
    }
  }
  if (longTx) book.db.exec('COMMIT');
}

function bulk(): void {
  const insert = book.db.prepare(`INSERT INTO payments (key, state, digest, x402_version, route,
      method, path, network, asset, decimals, pay_to, payer, amount, nonce, valid_before, request,
      tx, created_at, updated_at, settled_at, delivered_at)
    VALUES (?, 'settled', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const attempt = book.db.prepare(`INSERT INTO attempts (payment_id, key, request_id, outcome,
      status, served, delivered, started_at, ended_at) VALUES (?, ?, ?, 'paid', 200, 1, 1, ?, ?)`);
  let applied = 0;
  for (let s = 0; s < total; s += batch) {
    const facts = payments.slice(s, s + batch);
    const at = Date.now();
    journal(facts.map((f) => ({ op: 'begin', facts: f, at })));
    journal(ends(facts, s, at));
    const end = s + facts.length;
    if (end - applied < APPLY_EVERY && end < total) continue;
    book.db
      .transaction(() => {
        for (let j = applied; j < end; j++) {
          const f = payments[j]!;
          const id = insert.run(
            f.key,
            f.digest,
            f.x402Version,
            f.route,
            f.method,
            f.path,
            f.network,
            f.asset,
            f.decimals,
            f.payTo,
            f.payer,
            f.amount,
            f.nonce,
            f.validBefore,
            f.request,
            TX,
            at,
            at,
            at,
            at,
          ).lastInsertRowid;
          attempt.run(id, f.key, `r${j}`, at, at);
        }
      })
      .immediate();
    durableThenTruncate();
    applied = end;
  }
}

function primitives(): void {
  const n = 2_000;
  const measure = (name: string, run: (i: number) => void): void => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) run(i);
    const cpu = process.cpuUsage(cpu0);
    const wall = ((performance.now() - t0) / n) * 1000;
    console.log(
      `${name}: wall ${wall.toFixed(0)} µs, CPU ${((cpu.user + cpu.system) / n).toFixed(1)} µs ` +
        `(user ${(cpu.user / n).toFixed(1)}, system ${(cpu.system / n).toFixed(1)})`,
    );
  };
  book.db.exec('CREATE TABLE k (id INTEGER PRIMARY KEY, v TEXT)');
  book.db.prepare("INSERT INTO k VALUES (1, 'x')").run();
  const update = book.db.prepare('UPDATE k SET v = ? WHERE id = 1');
  measure('SQLite commit of one page (WAL, FULL)', (i) =>
    book.db.transaction(() => update.run(`v${i}`)).immediate(),
  );
  const line = Buffer.alloc(1_500, 0x78);
  measure('journal: append 1.5 KB + fdatasync', () => {
    writeSync(journalFd, line);
    fdatasyncSync(journalFd);
  });
  const pre = openSync(join(dir, 'preallocated'), 'w+');
  const zeros = Buffer.alloc(n * line.length);
  writeSync(pre, zeros, 0, zeros.length, 0);
  fdatasyncSync(pre);
  measure('journal: overwrite 1.5 KB (preallocated) + fdatasync', (i) => {
    writeSync(pre, line, 0, line.length, i * line.length);
    fdatasyncSync(pre);
  });
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
switch (design) {
  case 'sql':
    perOp(false, false);
    break;
  case 'apply-now':
    book.db.pragma('synchronous = NORMAL');
    perOp(true, false);
    break;
  case 'long-tx':
    book.db.pragma('synchronous = NORMAL');
    perOp(true, true);
    break;
  case 'bulk':
    book.db.pragma('synchronous = NORMAL');
    bulk();
    break;
  case 'primitives':
    primitives();
    break;
  default:
    throw new Error(`unknown design ${design}: sql, apply-now, long-tx, bulk, primitives`);
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
book.close();
rmSync(dir, { recursive: true, force: true });
if (design !== 'primitives') {
  console.log(
    `${design}, ${total} payments, ${batch} per commit: ${Math.round((total / ms) * 1000)}/s, ` +
      `CPU ${((cpu.user + cpu.system) / total).toFixed(1)} µs/payment ` +
      `(user ${(cpu.user / total).toFixed(1)}, system ${(cpu.system / total).toFixed(1)})`,
  );
}
