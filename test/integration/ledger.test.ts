/**
 * The book of record in the whole gateway (real SQLite file, real writer thread, loopback
 * facilitator checking EIP-712 signatures): every settled payment has its record before the settle
 * request; a ledger that cannot write refuses paid requests with 503 (nothing settled, the upstream's
 * body withheld) while free routes keep working, and readiness says so in its paid section; it
 * recovers once writes succeed again.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteBook } from '../../src/ledger/index.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { payWith, signFor } from '../helpers/pay.js';
import { rawRequest } from '../helpers/raw-http.js';
import { testAccount } from '../helpers/payments.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const ledgerFile = (): string => join(h.ledgerDir, 'x402-ledger.sqlite');

function metric(text: string, prefix: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function paidReadiness(): Promise<{ ready: boolean; detail: string }> {
  const res = await fetch(`${h.gateway.adminUrl}/readyz`);
  const body = (await res.json()) as {
    paid: { ok: boolean; reasons: string[] };
    checks: { ledger: { ok: boolean; detail: string } };
  };
  // The ledger only affects paid routes: free ones stay in the pool (200); scope=paid says it.
  expect(res.status).toBe(200);
  const paidScope = await fetch(`${h.gateway.adminUrl}/readyz?scope=paid`);
  expect(paidScope.status).toBe(body.paid.ok ? 200 : 503);
  expect(body.checks.ledger.ok || body.paid.reasons.some((r) => r.startsWith('ledger: '))).toBe(
    true,
  );
  return { ready: body.checks.ledger.ok, detail: body.checks.ledger.detail };
}

describe('ledger', () => {
  it('records a paid request as settled and delivered, with its attempt', async () => {
    const payment = await signFor(h.url, '/v1/items/ledger-1', { account: testAccount(2) });
    const r = await payWith(h.url, '/v1/items/ledger-1', payment);
    expect(r.status).toBe(200);
    await new Promise((done) => setTimeout(done, 100)); // the attempt row is appended, not awaited
    const book = new SqliteBook(ledgerFile(), { readonly: true });
    try {
      const [record] = book.list({ states: ['settled'] });
      expect(record).toMatchObject({
        route: 'GET /v1/items/:id',
        method: 'GET',
        path: '/v1/items/ledger-1',
        amount: '2000',
        network: 'eip155:84532',
      });
      expect(record!.transaction).toMatch(/^0x[0-9a-f]{64}$/);
      expect(record!.deliveredAt).toBeDefined();
      expect(book.attempts(record!.key)).toMatchObject([
        { outcome: 'paid', status: 200, served: true, delivered: true },
      ]);
    } finally {
      book.close();
    }
  });

  it('cannot write → paid requests 503 ledger_unavailable, nothing settled; free routes work', async () => {
    // A real SQLite failure on every write to the payments table, from a second connection.
    const db = new Database(ledgerFile());
    db.pragma('busy_timeout = 5000');
    db.exec(
      "CREATE TRIGGER fail_insert BEFORE INSERT ON payments BEGIN SELECT RAISE(FAIL, 'disk full'); END;",
    );
    try {
      const settlesBefore = h.facilitator.calls.settle;
      const transfersBefore = h.facilitator.transfers.length;
      const upstreamBefore = h.upstream.calls.length;
      const payment = await signFor(h.url, '/v1/items/ledger-2', { account: testAccount(3) });
      const refused = await payWith(h.url, '/v1/items/ledger-2', payment);
      expect(refused.status).toBe(503);
      expect(JSON.parse(refused.body)).toMatchObject({ reason: 'ledger_unavailable' });
      expect(refused.headers['retry-after']).toBeDefined();
      expect(h.facilitator.calls.settle).toBe(settlesBefore); // nothing settled without a record
      expect(h.facilitator.transfers).toHaveLength(transfersBefore);
      expect(h.upstream.calls.length).toBe(upstreamBefore + 1); // ran, its body withheld

      const free = await rawRequest(h.url, { method: 'GET', path: '/v1/health' });
      expect(free.status).toBe(200);

      const metrics = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
      expect(metric(metrics, 'x402_gateway_ledger_errors_total{kind="write"}')).toBeGreaterThan(0);
      // Readiness tells it in its paid section, although the writer thread is alive.
      const failing = await paidReadiness();
      expect(failing.ready).toBe(false);
      expect(failing.detail).toContain('disk full');

      // Writes succeed again: the same signature pays (it was released, not spent).
      db.exec('DROP TRIGGER fail_insert');
      const paid = await payWith(h.url, '/v1/items/ledger-2', payment);
      expect(paid.status).toBe(200);
      expect(h.facilitator.calls.settle).toBe(settlesBefore + 1);
      expect(await paidReadiness()).toMatchObject({ ready: true });
    } finally {
      db.close();
    }
  });

  it('exports the ledger metrics', async () => {
    const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
    for (const name of [
      'x402_gateway_ledger_unresolved{state="settling"}',
      'x402_gateway_ledger_unresolved{state="unknown"}',
      'x402_gateway_ledger_oldest_unresolved_seconds',
      'x402_gateway_ledger_reconciled_total',
      'x402_gateway_ledger_write_seconds_count',
      'x402_gateway_ledger_errors_total',
    ]) {
      expect(text, name).toContain(name);
    }
    expect(metric(text, 'x402_gateway_ledger_write_seconds_count')).toBeGreaterThan(0);
    const ready = (await (await fetch(`${h.gateway.adminUrl}/readyz`)).json()) as {
      paid: { ok: boolean; reasons: string[] };
    };
    expect(ready.paid).toMatchObject({ ok: true, reasons: [] });
  });
});
