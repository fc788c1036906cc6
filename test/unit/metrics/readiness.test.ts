import { describe, expect, it } from 'vitest';
import { createReadiness } from '../../../src/metrics/readiness.js';

describe('createReadiness', () => {
  it('is not ready while starting, ready once started with every check ok', () => {
    const r = createReadiness();
    r.register({ name: 'ledger', affects: 'paid', check: () => ({ ok: true, detail: 'w' }) });
    expect(r.ready).toBe(false);
    expect(r.detail).toBe('starting');
    r.started();
    expect(r.snapshot()).toEqual({
      ready: true,
      detail: 'ok',
      paid: { ok: true, reasons: [], ready: true, detail: 'ok' },
      checks: {
        gateway: { ok: true, affects: 'all', detail: 'started' },
        ledger: { ok: true, affects: 'paid', detail: 'w' },
      },
    });
  });

  it('a failing paid check keeps the gateway ready and gives paid a reason', () => {
    const r = createReadiness();
    let ok = false;
    r.register({ name: 'facilitator', affects: 'paid', check: () => ({ ok, detail: 'down' }) });
    r.started();
    expect(r.ready).toBe(true);
    expect(r.paid()).toMatchObject({ ok: false, reasons: ['facilitator: down'] });
    ok = true;
    expect(r.paid().ok).toBe(true);
  });

  it('a failing all check, draining and a failed start make it unready', () => {
    const r = createReadiness();
    r.register({ name: 'store', affects: 'all', check: () => ({ ok: false, detail: 'gone' }) });
    r.started();
    expect(r.ready).toBe(false);
    expect(r.detail).toBe('store: gone');
    expect(r.paid().ok).toBe(false);

    const d = createReadiness();
    d.started();
    d.draining();
    expect(d.ready).toBe(false);
    expect(d.paid()).toMatchObject({ ok: false, reasons: ['gateway: draining: shutting down'] });

    const f = createReadiness();
    f.failed('ledger: cannot open');
    f.started(); // a failed start stays failed
    expect(f.ready).toBe(false);
    expect(f.detail).toBe('failed to start: ledger: cannot open');
  });

  it('a check that throws counts as failing, with its message', () => {
    const r = createReadiness();
    r.register({
      name: 'x',
      affects: 'paid',
      check: () => {
        throw new Error('boom');
      },
    });
    r.started();
    expect(r.snapshot().checks.x).toEqual({
      ok: false,
      affects: 'paid',
      detail: 'check failed: boom',
    });
  });
});
