import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics/index.js';
import {
  FacilitatorPool,
  labelInDetail,
  viaDetail,
  type MemberOptions,
} from '../../../src/verify/failover.js';
import type {
  FacilitatorClient,
  FacilitatorRequest,
  FacilitatorResult,
} from '../../../src/verify/types.js';
import type { SettleResponse, VerifyResponse } from '../../../src/x402/index.js';

type Answer<T> = FacilitatorResult<T> | (() => FacilitatorResult<T>);

/** A scripted facilitator (unit test only: the integration tests use real loopback ones). */
function fake(
  verify: Answer<VerifyResponse>,
  settle: Answer<SettleResponse> = SETTLED,
): FacilitatorClient & { calls: { verify: number; settle: number } } {
  const calls = { verify: 0, settle: 0 };
  const run = <T>(a: Answer<T>): FacilitatorResult<T> => (typeof a === 'function' ? a() : a);
  return {
    calls,
    verify: () => {
      calls.verify++;
      return Promise.resolve(run(verify));
    },
    settle: () => {
      calls.settle++;
      return Promise.resolve(run(settle));
    },
    supported: () => Promise.resolve({ kind: 'ok', value: { kinds: [] }, status: 200 }),
    close: () => Promise.resolve(),
  };
}

const VALID: FacilitatorResult<VerifyResponse> = {
  kind: 'ok',
  value: { isValid: true, payer: '0x1' },
  status: 200,
};
const INVALID: FacilitatorResult<VerifyResponse> = {
  kind: 'ok',
  value: { isValid: false, invalidReason: 'invalid_exact_evm_payload_signature', payer: '0x1' },
  status: 400,
};
const SETTLED: FacilitatorResult<SettleResponse> = {
  kind: 'ok',
  value: { success: true, transaction: `0x${'1'.repeat(64)}`, network: 'eip155:8453' },
  status: 200,
};
const HTTP_500 = { kind: 'unavailable', failure: 'http_error', detail: 'x', status: 500 } as const;
const REFUSED = {
  kind: 'unavailable',
  failure: 'network',
  detail: 'ECONNREFUSED',
  notSent: true,
} as const;

const request = {} as FacilitatorRequest;

function member(
  label: string,
  client: FacilitatorClient,
  /** Its last /supported lists the network; `unknown`: it never answered. */
  lists: boolean | 'unknown' = true,
  breakerFailures = 2,
): MemberOptions {
  return {
    label,
    client,
    verifyTimeoutMs: 1000,
    settleTimeoutMs: 1000,
    breakerFailures,
    breakerHalfOpenAfterMs: 60_000,
    lists: () => (lists === 'unknown' ? undefined : lists),
    verdicts: { refused: () => undefined, accepted: () => undefined },
  };
}

const pool = (...members: MemberOptions[]) =>
  new FacilitatorPool(
    members,
    createMetrics({ defaultMetrics: false }).facilitators,
    pino({ level: 'silent' }),
  );

describe('FacilitatorPool.verify', () => {
  it('asks the first that lists the network, then one that never answered /supported', async () => {
    const a = fake(VALID);
    const b = fake(VALID);
    const c = fake(VALID);
    const p = pool(member('a', a, false), member('b', b, 'unknown'), member('c', c, true));
    const routed = await p.verify(request, 2, 'eip155:8453');
    expect(routed.by?.label).toBe('c');
    expect([a.calls.verify, b.calls.verify, c.calls.verify]).toEqual([0, 0, 1]);
  });

  it('a fault moves on within the request; a refusal by the payer does not', async () => {
    const a = fake(HTTP_500);
    const b = fake(INVALID);
    const p = pool(member('a', a), member('b', b));
    const routed = await p.verify(request, 2, 'eip155:8453');
    expect(routed.by?.label).toBe('b');
    expect(routed.result).toBe(INVALID);
    expect(a.calls.verify).toBe(1);
  });

  it('opens a circuit after breakerFailures faults and skips it', async () => {
    const a = fake(HTTP_500);
    const b = fake(VALID);
    const p = pool(member('a', a), member('b', b));
    for (let i = 0; i < 4; i++) await p.verify(request, 2, 'eip155:8453');
    expect(a.calls.verify).toBe(2);
    expect(b.calls.verify).toBe(4);
  });

  it('never opens a circuit on payer refusals', async () => {
    const a = fake(INVALID);
    const p = pool(member('a', a), member('b', fake(VALID)));
    for (let i = 0; i < 5; i++) await p.verify(request, 2, 'eip155:8453');
    expect(a.calls.verify).toBe(5);
  });

  it('no facilitator lists the network: nobody asked, unsupported', async () => {
    const a = fake(VALID);
    const p = pool(member('a', a, false), member('b', fake(VALID), false));
    const routed = await p.verify(request, 2, 'eip155:8453');
    expect(routed).toMatchObject({ unsupported: true, by: undefined });
    expect(a.calls.verify).toBe(0);
  });

  it('a single facilitator is asked even when its /supported left the network out', async () => {
    const a = fake(VALID);
    expect((await pool(member('a', a, false)).verify(request, 2, 'x')).by?.label).toBe('a');
  });
});

describe('FacilitatorPool.settle', () => {
  it('stays with the facilitator that verified', async () => {
    const a = fake(VALID);
    const b = fake(VALID);
    const p = pool(member('a', a), member('b', b));
    const routed = await p.settle(request, 2, 'n', { via: p.members[1], pinned: false }, 1000);
    expect(routed.by?.label).toBe('b');
    expect([a.calls.settle, b.calls.settle]).toEqual([0, 1]);
  });

  it('moves on when nothing was sent', async () => {
    const a = fake(VALID, REFUSED);
    const b = fake(VALID);
    const p = pool(member('a', a), member('b', b));
    const sent = { member: undefined as unknown };
    const routed = await p.settle(
      request,
      2,
      'n',
      { via: p.members[0], pinned: false },
      1000,
      sent as never,
    );
    expect(routed.by?.label).toBe('b');
    expect(routed.result).toBe(SETTLED);
    expect(sent.member).toBe(p.members[1]);
  });

  it.each([
    ['a 5xx', HTTP_500],
    ['a timeout', { kind: 'unavailable', failure: 'timeout', detail: 't' } as const],
    [
      'a reset after writing',
      { kind: 'unavailable', failure: 'network', detail: 'reset' } as const,
    ],
  ])('never moves after %s (the outcome is unknown)', async (_name, answer) => {
    const a = fake(VALID, answer);
    const b = fake(VALID);
    const p = pool(member('a', a), member('b', b));
    const routed = await p.settle(request, 2, 'n', { via: p.members[0], pinned: false }, 1000);
    expect(routed.by?.label).toBe('a');
    expect(routed.result).toBe(answer);
    expect(b.calls.settle).toBe(0);
  });

  it('a pinned settlement (resumed) goes nowhere else, even when nothing could be sent', async () => {
    const a = fake(VALID, REFUSED);
    const b = fake(VALID);
    const p = pool(member('a', a), member('b', b));
    const routed = await p.settle(request, 2, 'n', { via: p.members[0], pinned: true }, 1000);
    expect(routed.result).toMatchObject({ kind: 'unavailable', notSent: true });
    expect(b.calls.settle).toBe(0);
  });

  it('without a verifier (verify cache hit) picks by the verify rule', async () => {
    const a = fake(VALID);
    const b = fake(VALID);
    const p = pool(member('a', a, false), member('b', b, true));
    const routed = await p.settle(request, 2, 'n', { via: undefined, pinned: false }, 1000);
    expect(routed.by?.label).toBe('b');
  });
});

describe('holders of unknown settlements', () => {
  it('are remembered, forgotten, and carried to a new pool by label', () => {
    const p = pool(member('a', fake(VALID)), member('b', fake(VALID)));
    p.holdUnknown('k', p.members[1]!);
    expect(p.holder('k')?.label).toBe('b');
    const next = pool(member('b', fake(VALID)), member('a', fake(VALID)));
    next.adoptHolders(p);
    expect(next.holder('k')).toBe(next.members[0]);
    p.forget('k');
    expect(p.holder('k')).toBeUndefined();
  });

  it("the ledger's detail names the facilitator and gives it back", () => {
    const p = pool(member('cdp', fake(VALID)));
    const detail = viaDetail(p.members[0], 'settle: no complete reply within 800 ms');
    expect(detail).toBe('facilitator cdp: settle: no complete reply within 800 ms');
    expect(labelInDetail(detail)).toBe('cdp');
    expect(labelInDetail('settle: timeout')).toBeUndefined();
    expect(labelInDetail(undefined)).toBeUndefined();
  });
});

describe('FacilitatorPool.servesAny (a route asks for payment only where one could be taken)', () => {
  const offers = [{ network: { caip2: 'eip155:84532', v1Name: 'base-sepolia' } }];

  it('is false only when every facilitator answered and none lists the network', () => {
    expect(
      pool(member('a', fake(VALID), false), member('b', fake(VALID), false)).servesAny(offers),
    ).toBe(false);
    expect(
      pool(member('a', fake(VALID), false), member('b', fake(VALID), true)).servesAny(offers),
    ).toBe(true);
    // Never answered: maybe (a stale or missing answer must not switch a route off).
    expect(
      pool(member('a', fake(VALID), false), member('b', fake(VALID), 'unknown')).servesAny(offers),
    ).toBe(true);
    expect(pool(member('a', fake(VALID), false)).servesAny(offers)).toBe(false);
  });

  it('is true for a route with no offer (free)', () => {
    expect(pool(member('a', fake(VALID), false)).servesAny([])).toBe(true);
  });
});
