import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createMetrics, type ReadinessCheck } from '../../../src/metrics/index.js';
import { unsupportedOffers, watchFacilitatorSupport } from '../../../src/verify/readiness.js';
import {
  classifyVerdict,
  FACILITATOR_SIDE_REFUSALS,
  PAYER_CAUSED_REFUSALS,
} from '../../../src/verify/verdicts.js';
import { BASE, makeOffer, makeRoute } from '../../helpers/x402-fixtures.js';

describe('unsupportedOffers', () => {
  const sepoliaRoute = makeRoute();
  const baseRoute = {
    ...makeRoute({ offers: [makeOffer({ network: BASE })] }),
    id: 'GET /v1/base',
  };

  it('reports nothing when every configured network is listed for both versions', () => {
    const supported = {
      kinds: [
        { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
        { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
      ],
    };
    expect(unsupportedOffers(supported, [sepoliaRoute])).toEqual([]);
  });

  it('names each missing (version, network) once, with the routes that need it', () => {
    const supported = { kinds: [{ x402Version: 2, scheme: 'exact', network: 'eip155:84532' }] };
    expect(unsupportedOffers(supported, [sepoliaRoute, baseRoute])).toEqual([
      { network: 'base-sepolia', x402Version: 1, routes: ['GET /v1/quote'] },
      { network: 'base', x402Version: 1, routes: ['GET /v1/base'] },
      { network: 'eip155:8453', x402Version: 2, routes: ['GET /v1/base'] },
    ]);
  });

  it('ignores kinds of other schemes', () => {
    const supported = {
      kinds: [
        { x402Version: 1, scheme: 'upto', network: 'base-sepolia' },
        { x402Version: 2, scheme: 'upto', network: 'eip155:84532' },
      ],
    };
    expect(unsupportedOffers(supported, [sepoliaRoute])).toHaveLength(2);
  });
});

describe('watchFacilitatorSupport: paid-side problems', () => {
  const route = makeRoute();
  const all = {
    kinds: [
      { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
      { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
    ],
  };

  function setup(answers: Array<{ kinds: Array<Record<string, unknown>> }>) {
    let supportedCalls = 0;
    const facilitator = {
      supported: () =>
        Promise.resolve({
          kind: 'ok' as const,
          status: 200,
          value: (answers[Math.min(supportedCalls++, answers.length - 1)] ?? all) as never,
        }),
      verify: () => Promise.reject(new Error('unused')),
      settle: () => Promise.reject(new Error('unused')),
      close: () => Promise.resolve(),
    };
    const checks: ReadinessCheck[] = [];
    let nowMs = 1_000_000;
    const watch = watchFacilitatorSupport(
      facilitator,
      [route],
      { register: (c) => checks.push(c) },
      createMetrics({ defaultMetrics: false }),
      pino({ level: 'silent' }),
      { refreshMs: 20, now: () => nowMs },
    );
    return {
      watch,
      check: () => checks[0]!.check(),
      calls: () => supportedCalls,
      advance: (ms: number) => (nowMs += ms),
    };
  }

  it('one x402 version missing is only warned: the other still pays', async () => {
    const t = setup([{ kinds: [all.kinds[1]!] }]);
    t.watch.start();
    await vi.waitFor(() => expect(t.calls()).toBeGreaterThanOrEqual(1));
    expect(t.check()).toEqual({ ok: true, detail: 'ok' });
    t.watch.stop();
  });

  it('is not ok until /supported answers, then ok; registered as a paid-only check', async () => {
    const t = setup([all]);
    expect(t.check()).toEqual({
      ok: false,
      detail: 'waiting for the facilitator /supported answer',
    });
    t.watch.start();
    await vi.waitFor(() => expect(t.check()).toEqual({ ok: true, detail: 'ok' }));
    t.watch.stop();
  });

  it('a refusal not the payer’s is reported until a verdict on that network, and expires', async () => {
    const t = setup([all]);
    t.watch.start();
    await vi.waitFor(() => expect(t.check().ok).toBe(true));
    t.watch.refused('eip155:84532', 'invalid_network');
    expect(t.check().ok).toBe(false);
    expect(t.watch.paidProblems()).toEqual([
      "refuses payments on eip155:84532: invalid_network (not the payer's fault)",
    ]);
    t.watch.accepted('eip155:84532');
    expect(t.check().ok).toBe(true);
    t.watch.refused('eip155:84532', 'invalid_network');
    t.advance(25); // past refreshMs without being seen again
    expect(t.check().ok).toBe(true);
    t.watch.stop();
  });

  it('re-reads /supported periodically: a network it stops listing shows, and clears when listed again', async () => {
    const answers = [all, { kinds: [] }];
    const t = setup(answers);
    t.watch.start();
    await vi.waitFor(() => expect(t.calls()).toBeGreaterThanOrEqual(2));
    expect(t.check().detail).toBe('/supported does not list eip155:84532, needed by GET /v1/quote');
    answers.push(all); // listed again from the next re-read on
    const seen = t.calls();
    await vi.waitFor(() => expect(t.calls()).toBeGreaterThan(seen + 1));
    expect(t.check()).toEqual({ ok: true, detail: 'ok' });
    t.watch.stop();
  });
});

describe('classifyVerdict', () => {
  it('payer-caused reasons are cached verdicts; facilitator-side ones are not the payer’s', () => {
    expect(classifyVerdict({ isValid: true })).toBe('valid');
    for (const r of [
      'invalid_exact_evm_payload_signature',
      'invalid_exact_evm_insufficient_balance',
      'invalid_exact_evm_nonce_already_used',
    ]) {
      expect(classifyVerdict({ isValid: false, invalidReason: r })).toBe('payer');
    }
    for (const r of ['invalid_network', 'unsupported_scheme', 'invalid_payment_requirements']) {
      expect(classifyVerdict({ isValid: false, invalidReason: r })).toBe('facilitator');
    }
    expect(classifyVerdict({ isValid: false, invalidReason: 'something_new' })).toBe('other');
    expect(classifyVerdict({ isValid: false })).toBe('other');
    for (const r of PAYER_CAUSED_REFUSALS) expect(FACILITATOR_SIDE_REFUSALS.has(r)).toBe(false);
  });
});
