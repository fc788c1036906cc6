/**
 * /readyz names every dependency with a reason (issue 14 §5): the facilitator, the upstream, the
 * ledger and the replay store, each with whether it is ok, what it affects and why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

interface Readyz {
  ready: boolean;
  paid: { ok: boolean; reasons: string[] };
  checks: Record<string, { ok: boolean; affects: string; detail: string }>;
}

describe('/readyz', () => {
  it('lists the facilitator, the upstream, the ledger and the replay store, each with its reason', async () => {
    let body: Readyz | undefined;
    await expect
      .poll(
        async () => {
          body = (await (await fetch(`${h.gateway.adminUrl}/readyz`)).json()) as Readyz;
          return `${body.checks.upstream?.detail} | ${body.checks.facilitator?.detail}`;
        },
        { timeout: 5_000 },
      )
      .toMatch(/accepts connections \| ok$/);
    expect(body!.ready).toBe(true);
    expect(Object.keys(body!.checks).sort()).toEqual(
      ['facilitator', 'gateway', 'ledger', 'replay store', 'upstream'].sort(),
    );
    for (const [name, check] of Object.entries(body!.checks)) {
      expect(check.detail, name).not.toBe('');
      expect(check.ok, `${name}: ${check.detail}`).toBe(true);
    }
    expect(body!.checks.upstream).toMatchObject({ affects: 'paid' });
    expect(body!.checks.ledger).toMatchObject({ affects: 'paid' });
  });
});

describe('/metrics at start-up', () => {
  it("every paid route's revenue and request series exist at 0 before its first payment", async () => {
    const text = await (await fetch(`${h.gateway.adminUrl}/metrics`)).text();
    for (const route of h.gateway.gateway.routes.filter((r) => !r.free)) {
      const offer = route.offers[0]!;
      expect(text, route.id).toContain(
        `x402_gateway_revenue_atomic_total{route="${route.id}",network="${offer.network.caip2}",asset="${offer.asset.address}",pay_to="${offer.payTo}"} 0`,
      );
      expect(text, route.id).toContain(
        `x402_gateway_requests_total{route="${route.id}",outcome="paid"} 0`,
      );
    }
    for (const outcome of ['refused', 'recovered', 'has_code', 'code_unknown', 'no_rpc']) {
      expect(text).toContain(`x402_gateway_signature_checks_total{outcome="${outcome}"} 0`);
    }
  });
});
