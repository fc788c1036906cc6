import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createReadiness } from '../../../src/metrics/readiness.js';
import { createAdminServer } from '../../../src/metrics/server.js';

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  while (servers.length > 0) servers.pop()!.close();
});

async function admin(readiness = createReadiness()): Promise<string> {
  const server = createAdminServer(new Registry(), readiness);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('/readyz', () => {
  it('keeps 200 when only paid routes are affected; scope=paid answers 503', async () => {
    const readiness = createReadiness();
    let facilitatorUp = false;
    readiness.register({
      name: 'facilitator',
      affects: 'paid',
      check: () => ({ ok: facilitatorUp, detail: facilitatorUp ? 'answered' : 'down' }),
    });
    readiness.started();
    const url = await admin(readiness);
    const all = await fetch(`${url}/readyz`);
    expect(all.status).toBe(200);
    expect(await all.json()).toMatchObject({
      ready: true,
      paid: { ok: false, reasons: ['facilitator: down'] },
      checks: { facilitator: { ok: false, affects: 'paid', detail: 'down' } },
    });
    expect((await fetch(`${url}/readyz?scope=paid`)).status).toBe(503);
    expect((await fetch(`${url}/readyz?scope=all`)).status).toBe(200);
    facilitatorUp = true;
    expect((await fetch(`${url}/readyz?scope=paid`)).status).toBe(200);
  });

  it('answers 503 while starting, after a failed start and while draining', async () => {
    const readiness = createReadiness();
    const url = await admin(readiness);
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    readiness.failed('ledger: cannot open the ledger');
    const failed = await fetch(`${url}/readyz`);
    expect(failed.status).toBe(503);
    expect(((await failed.json()) as { detail: string }).detail).toContain('cannot open');
    readiness.draining();
    expect((await fetch(`${url}/readyz?scope=paid`)).status).toBe(503);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('refuses an unknown scope with a clear message', async () => {
    const url = await admin();
    const r = await fetch(`${url}/readyz?scope=free`);
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: 'unknown scope "free": use scope=paid or scope=all' });
  });
});
