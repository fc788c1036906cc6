/**
 * `POST /ledger/reconcile` on the admin listener of an in-process gateway (real SQLite ledger, real
 * writer thread): one pass of the gateway's own reconciler, so what it settles is counted in the
 * gateway's revenue metric; a request during a pass joins it; GET is 405; with `ledger: false`
 * there is no such endpoint (404). The chain is a scripted reader put in the gateway's chain map
 * (the harness has no devnet); the CLI form against the real listener ends the file.
 * test/unit/cli/commands/ledger/reconcile.test.ts reads a real devnet.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ChainReader, SettledVerdict, TransferVerdict } from '../../src/chains/index.js';
import type { PaymentFacts } from '../../src/ledger/index.js';
import { main } from '../../src/cli/run.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { NOTHING_RECONCILED as NONE } from '../../src/payment/index.js';
import { captureOutput } from '../helpers/capture-output.js';
import { paymentFacts } from '../helpers/ledger-conformance.js';

const NET = 'eip155:84532';
const TX = `0x${'ab'.repeat(32)}` as const;

/** A chain where every transfer landed; `hold()` keeps the next lookups waiting until released. */
class ScriptedChain implements ChainReader {
  transfers = 0;
  #gate: Promise<void> | undefined;
  #release: (() => void) | undefined;

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#release = resolve));
  }
  release(): void {
    this.#release?.();
    this.#gate = undefined;
  }
  async checkTransfer(): Promise<TransferVerdict> {
    this.transfers++;
    await this.#gate;
    return { kind: 'landed', transaction: TX };
  }
  checkSettled(): Promise<SettledVerdict> {
    return Promise.resolve({ kind: 'waiting', confirmations: 0n });
  }
}

let h: Harness;
let noLedger: Harness;
const chain = new ScriptedChain();

beforeAll(async () => {
  [h, noLedger] = await Promise.all([startHarness(), startHarness({ extraYaml: 'ledger: false' })]);
  (h.gateway.gateway.deps.chains as Map<string, ChainReader>).set(NET, chain);
});
afterAll(async () => {
  await Promise.all([h?.close(), noLedger?.close()]);
});

/** An `unknown` record in the running gateway's ledger (a settlement whose answer was lost). */
async function unknownRecord(): Promise<PaymentFacts> {
  const ledger = h.gateway.gateway.deps.ledger!;
  const facts = paymentFacts({
    network: NET,
    payTo: `0x${Math.random().toString(16).slice(2, 10).padStart(40, '7')}`,
  });
  await ledger.begin(facts, Date.now() - 60_000);
  await ledger.change(facts.key, ['settling'], { state: 'unknown', detail: 'lost answer' });
  return facts;
}

const reconcile = (harness = h, method = 'POST') =>
  fetch(`${harness.gateway.adminUrl}/ledger/reconcile`, { method });

async function metricSum(prefix: string): Promise<number> {
  const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('POST /ledger/reconcile', () => {
  it('runs one pass of the gateway reconciler and answers its counts; revenue counted', async () => {
    const facts = await unknownRecord();
    const revenue = `x402_gateway_revenue_atomic_total{route="${facts.route}",network="${NET}",asset="${facts.asset}",pay_to="${facts.payTo}"}`;
    expect(await metricSum(revenue)).toBe(0);

    const r = await reconcile();
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.json()).toEqual({ outcomes: { ...NONE, settled: 1 } });
    expect((await h.gateway.gateway.deps.ledger!.get(facts.key))?.state).toBe('settled');
    expect(await metricSum(revenue)).toBe(Number(facts.amount));
    expect(await metricSum('x402_gateway_ledger_reconciled_total{outcome="settled"}')).toBe(1);
    // The unresolved gauges are re-read after the pass.
    expect(await metricSum('x402_gateway_ledger_unresolved{')).toBe(0);
  });

  it('a request while a pass runs joins it: one pass, the same counts', async () => {
    const facts = await unknownRecord();
    const asked = chain.transfers;
    chain.hold();
    const first = reconcile();
    await vi.waitFor(() => expect(chain.transfers).toBe(asked + 1));
    const second = reconcile();
    // Let the second request reach the listener while the first pass still waits on the chain.
    await new Promise((resolve) => setTimeout(resolve, 200));
    chain.release();
    const [a, b] = await Promise.all([first, second]);
    const [x, y] = await Promise.all([a.json(), b.json()]);
    expect(x).toEqual(y);
    expect(x).toMatchObject({ outcomes: { settled: 1, unresolved: 0 } });
    expect(chain.transfers).toBe(asked + 1);
    expect((await h.gateway.gateway.deps.ledger!.get(facts.key))?.state).toBe('settled');
  });

  it('GET or HEAD: 405, allow POST', async () => {
    for (const method of ['GET', 'HEAD']) {
      const r = await reconcile(h, method);
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('POST');
    }
  });

  it('a gateway with ledger: false has no such endpoint: 404', async () => {
    for (const method of ['POST', 'GET']) {
      const r = await reconcile(noLedger, method);
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ error: 'no ledger (ledger: false)' });
    }
    // The other endpoints are as they were.
    expect((await fetch(`${noLedger.gateway.adminUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${noLedger.gateway.adminUrl}/metrics`, { method: 'POST' })).status).toBe(
      405,
    );
  });

  it('`ledger reconcile --admin URL` asks it and prints the counts', async () => {
    await unknownRecord();
    const { code, stdout } = await captureOutput(() =>
      main(['ledger', 'reconcile', '--admin', h.gateway.adminUrl, '--json']),
    );
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      admin: h.gateway.adminUrl,
      outcomes: { settled: 1, failed: 0, unresolved: 0 },
    });
  });
});
