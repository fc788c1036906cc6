/**
 * The conformance suite of `LedgerStore` (src/ledger/store.ts): every behaviour the payment
 * lifecycle, the reconciler and the operator commands rely on. Every implementation runs it
 * (sqlite-ledger.test.ts, memory-ledger.test.ts):
 *
 *     ledgerConformance('SqliteLedger', async (hooks) => ({ store, cleanup }));
 *
 * `make` returns a store that is not open yet, built with the `hooks` it is given (a store that
 * ignores them fails the hooks tests): the suite opens it before each test, closes it after, then
 * calls `cleanup` (remove its files).
 *
 * A store that records owners (a book several instances share: Postgres) passes `owned(owner)`,
 * another store on the same book (not open yet) whose owner option is `owner`: the owner tests
 * then run two instances and an operator's store on one book. Without it, the suite checks that
 * revenue ignores the owner asked (one file, one gateway: every record is its own).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  LedgerUnavailableError,
  type Attempt,
  type LedgerErrorKind,
  type LedgerHooks,
  type LedgerState,
  type LedgerStore,
  type PaymentFacts,
  type RevenueTotal,
} from '../../src/ledger/index.js';

export const T0 = 1_700_000_000_000;

/** What `begin` answers for a new record. */
export const NEW = { kind: 'begun', from: undefined } as const;

let seq = 0;

/** A payment's facts with a fresh key and digest; any field can be overridden. */
export function paymentFacts(overrides: Partial<PaymentFacts> = {}): PaymentFacts {
  seq += 1;
  const nonce = `0x${seq.toString(16).padStart(64, '0')}`;
  const payer = '0x2222222222222222222222222222222222222222';
  const asset = '0x036cbd53842c5426634e7929541ec2318f3dcf7e';
  return {
    key: `84532:${asset}:${payer}:${nonce}`,
    digest: `digest-${seq}`,
    x402Version: 2,
    route: 'GET /v1/quote',
    method: 'GET',
    path: '/v1/quote',
    network: 'eip155:84532',
    asset,
    decimals: 6,
    payTo: '0x1111111111111111111111111111111111111111',
    payer,
    amount: '1000',
    nonce,
    validBefore: 1_700_000_600,
    request: JSON.stringify({ x402Version: 2, seq }),
    ...overrides,
  };
}

/** An attempt on `key`; any field can be overridden. */
export function attemptOf(key: string, overrides: Partial<Attempt> = {}): Attempt {
  return {
    key,
    requestId: `req-${key.slice(-4)}`,
    outcome: 'paid',
    status: 200,
    served: true,
    delivered: true,
    startedAt: T0,
    endedAt: T0 + 1,
    ...overrides,
  };
}

/** Await a rejection and check it is a `LedgerUnavailableError` of that kind. */
export async function ledgerError(
  promise: Promise<unknown>,
  kind: LedgerErrorKind,
): Promise<LedgerUnavailableError> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(LedgerUnavailableError);
  const error = outcome.error as LedgerUnavailableError;
  expect(error.kind).toBe(kind);
  return error;
}

function byGroup(totals: RevenueTotal[]): RevenueTotal[] {
  const id = (t: RevenueTotal) => `${t.route}|${t.network}|${t.asset}|${t.payTo}`;
  return [...totals].sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}

export function ledgerConformance(
  name: string,
  make: (hooks?: LedgerHooks) => Promise<{ store: LedgerStore; cleanup(): Promise<void> }>,
  options: { readonly owned?: (owner: string) => LedgerStore } = {},
): void {
  describe(`${name} (LedgerStore conformance)`, () => {
    let store: LedgerStore;
    let cleanup: () => Promise<void>;
    const hooks = {
      onWrite: vi.fn<NonNullable<LedgerHooks['onWrite']>>(),
      onMove: vi.fn<NonNullable<LedgerHooks['onMove']>>(),
      onError: vi.fn<NonNullable<LedgerHooks['onError']>>(),
    };

    beforeEach(async () => {
      vi.clearAllMocks();
      const made = await make(hooks);
      store = made.store;
      cleanup = () => made.cleanup();
      await store.open();
    });

    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    /** A record begun at `at`, then moved to `state` (when not settling) at the same time. */
    async function recordIn(
      state: LedgerState,
      at: number,
      overrides: Partial<PaymentFacts> = {},
    ): Promise<PaymentFacts> {
      const facts = paymentFacts(overrides);
      if (state === 'released' || state === 'declined') {
        store.audit(facts, state, at);
        return facts;
      }
      expect(await store.begin(facts, at)).toEqual(NEW);
      if (state !== 'settling') {
        const moved = await store.change(facts.key, ['settling'], { state, at });
        expect(moved).toEqual({ kind: 'changed', changed: true, from: 'settling' });
      }
      return facts;
    }

    describe('the store', () => {
      it('is writable once open, and names its kind and location', () => {
        expect(store.writable).toBe(true);
        expect(store.kind).toMatch(/^\w+$/);
        expect(typeof store.location).toBe('string');
      });

      it('answers nothing for a key it never saw', async () => {
        expect(await store.get('84532:0xa:0xb:0xc')).toBeUndefined();
        expect(await store.attempts('84532:0xa:0xb:0xc')).toEqual([]);
        expect(await store.resolutions('84532:0xa:0xb:0xc')).toEqual([]);
        expect(await store.list()).toEqual([]);
        expect(await store.revenue()).toEqual([]);
        expect(await store.unresolved()).toEqual({ counts: {}, oldestAt: undefined });
      });

      it('shows an audit or an attempt to the next read, unawaited', async () => {
        const facts = paymentFacts();
        store.audit(facts, 'released', T0);
        store.attempt(attemptOf(facts.key, { delivered: false, outcome: 'refused' }));
        expect((await store.get(facts.key))?.state).toBe('released');
        expect(await store.attempts(facts.key)).toHaveLength(1);
      });
    });

    describe('begin', () => {
      it('writes a fresh record as settling, with all its facts', async () => {
        const facts = paymentFacts();
        expect(await store.begin(facts, T0)).toEqual(NEW);
        expect(await store.get(facts.key)).toEqual({
          ...facts,
          state: 'settling',
          transaction: undefined,
          createdAt: T0,
          updatedAt: T0,
          settledAt: undefined,
          confirmedAt: undefined,
          deliveredAt: undefined,
          redemptions: 0,
          detail: undefined,
        });
      });

      it('begins again an unresolved record for the same payload, keeping its state and creation', async () => {
        const facts = paymentFacts();
        await store.begin(facts, T0);
        expect(await store.begin(facts, T0 + 5)).toEqual({ kind: 'begun', from: 'settling' });
        expect(await store.get(facts.key)).toMatchObject({
          state: 'settling',
          createdAt: T0,
          updatedAt: T0 + 5,
        });

        await store.change(facts.key, ['settling'], { state: 'unknown', detail: 'timeout' });
        expect(await store.begin(facts, T0 + 9)).toEqual({ kind: 'begun', from: 'unknown' });
        expect(await store.get(facts.key)).toMatchObject({
          state: 'unknown',
          detail: 'timeout',
          createdAt: T0,
          updatedAt: T0 + 9,
        });
      });

      it('refuses another payload for an unresolved key, and leaves the record alone', async () => {
        const facts = paymentFacts();
        await store.begin(facts, T0);
        const other = { ...facts, digest: 'another-payload', request: '{"other":true}' };
        expect(await store.begin(other, T0 + 1)).toEqual({ kind: 'conflict', state: 'settling' });

        await store.change(facts.key, ['settling'], { state: 'unknown', at: T0 + 2 });
        expect(await store.begin(other, T0 + 3)).toEqual({ kind: 'conflict', state: 'unknown' });
        expect(await store.get(facts.key)).toMatchObject({
          digest: facts.digest,
          request: facts.request,
          updatedAt: T0 + 2,
        });
      });

      it.each(['settled', 'confirmed', 'disputed', 'failed'] as const)(
        'refuses a key whose record is %s, even for the same payload',
        async (state) => {
          const facts = await recordIn(state, T0);
          expect(await store.begin(facts, T0 + 1)).toEqual({ kind: 'conflict', state });
          expect(await store.get(facts.key)).toMatchObject({ state, updatedAt: T0 });
        },
      );

      it.each(['released', 'declined'] as const)(
        're-opens a %s record for the new payload (same key), as settling',
        async (state) => {
          const facts = paymentFacts();
          if (state === 'released') store.audit(facts, 'released', T0);
          else {
            // Declined after its settle request, with what the facilitator said.
            await store.begin(facts, T0);
            await store.change(facts.key, ['settling'], {
              state: 'declined',
              detail: 'insufficient_funds',
              at: T0,
            });
          }
          const again = {
            ...facts,
            digest: 'second-payload',
            route: 'GET /v1/other',
            path: '/v1/other?q=1',
            request: '{"second":true}',
          };
          expect(await store.begin(again, T0 + 10)).toEqual({ kind: 'begun', from: state });
          expect(await store.get(facts.key)).toMatchObject({
            state: 'settling',
            digest: 'second-payload',
            route: 'GET /v1/other',
            path: '/v1/other?q=1',
            request: '{"second":true}',
            createdAt: T0,
            updatedAt: T0 + 10,
            detail: undefined,
          });
        },
      );

      // FIXED (src/ledger/sqlite-book.ts, statement `reopen`): re-opening a released record
      // rewrites digest, route, method, path and request, but keeps the first authorization's
      // amount, payTo, validBefore, decimals, payer and nonce. Another authorization signed with
      // the same nonce (the same key) may carry another value: the record's `request` then says one
      // amount and its `amount` (what revenue sums) another. MemoryLedger mirrors SqliteBook.
      // When `reopen` writes every fact, turn `it.fails` into `it`.
      it('re-opening a released record takes the new authorization’s amount, payTo and validBefore', async () => {
        const facts = paymentFacts({ amount: '1000' });
        store.audit(facts, 'released', T0);
        const again = {
          ...facts,
          digest: 'second-payload',
          amount: '2500',
          payTo: '0x3333333333333333333333333333333333333333',
          validBefore: facts.validBefore + 600,
        };
        expect(await store.begin(again, T0 + 1)).toEqual({ kind: 'begun', from: 'released' });
        expect(await store.get(facts.key)).toMatchObject({
          amount: '2500',
          payTo: again.payTo,
          validBefore: again.validBefore,
        });
      });

      it('lets one of many concurrent begins of one key with different payloads win', async () => {
        const facts = paymentFacts();
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.begin({ ...facts, digest: `d${i}` }, T0)),
        );
        const begun = results.filter((r) => r.kind === 'begun');
        expect(begun).toHaveLength(1);
        expect(results.filter((r) => r.kind === 'conflict')).toHaveLength(9);
        const winner = results.findIndex((r) => r.kind === 'begun');
        expect((await store.get(facts.key))?.digest).toBe(`d${winner}`);
      });
    });

    describe('audit', () => {
      it('records a payment that ended before settling', async () => {
        const released = paymentFacts();
        const declined = paymentFacts();
        store.audit(released, 'released', T0);
        store.audit(declined, 'declined', T0 + 1);
        expect(await store.get(released.key)).toMatchObject({
          ...released,
          state: 'released',
          createdAt: T0,
          updatedAt: T0,
        });
        expect(await store.get(declined.key)).toMatchObject({
          state: 'declined',
          createdAt: T0 + 1,
        });
      });

      it('moves a released record to declined', async () => {
        const facts = paymentFacts();
        store.audit(facts, 'released', T0);
        store.audit(facts, 'declined', T0 + 4);
        expect(await store.get(facts.key)).toMatchObject({
          state: 'declined',
          createdAt: T0,
          updatedAt: T0 + 4,
        });
      });

      it('never overwrites a settling or a settled record', async () => {
        const settling = await recordIn('settling', T0);
        const settled = paymentFacts();
        await store.begin(settled, T0);
        await store.change(settled.key, ['settling'], {
          state: 'settled',
          transaction: '0xabc',
          at: T0 + 1,
        });
        const unknown = await recordIn('unknown', T0);

        store.audit(settling, 'released', T0 + 5);
        store.audit(settled, 'declined', T0 + 5);
        store.audit(unknown, 'released', T0 + 5);
        expect(await store.get(settling.key)).toMatchObject({ state: 'settling', updatedAt: T0 });
        expect(await store.get(settled.key)).toMatchObject({
          state: 'settled',
          transaction: '0xabc',
          updatedAt: T0 + 1,
        });
        expect(await store.get(unknown.key)).toMatchObject({ state: 'unknown', updatedAt: T0 });
      });
    });

    describe('change', () => {
      it('moves a record only when it is in one of `from`', async () => {
        const facts = await recordIn('settling', T0);
        expect(await store.change(facts.key, ['unknown'], { state: 'failed', at: T0 + 1 })).toEqual(
          { kind: 'changed', changed: false, from: 'settling' },
        );
        expect(await store.get(facts.key)).toMatchObject({ state: 'settling', updatedAt: T0 });

        const moved = await store.change(facts.key, ['settling', 'unknown'], {
          state: 'settled',
          transaction: '0xabc',
          detail: 'settled by the facilitator',
          at: T0 + 5,
        });
        expect(moved).toEqual({ kind: 'changed', changed: true, from: 'settling' });
        expect(await store.get(facts.key)).toMatchObject({
          state: 'settled',
          transaction: '0xabc',
          detail: 'settled by the facilitator',
          updatedAt: T0 + 5,
          settledAt: T0 + 5,
          confirmedAt: undefined,
        });
      });

      it('answers unchanged for a key it never saw, and writes nothing', async () => {
        const result = await store.change('84532:0xa:0xb:0xc', ['settling'], { state: 'settled' });
        expect(result).toEqual({ kind: 'changed', changed: false, from: undefined });
        expect(await store.get('84532:0xa:0xb:0xc')).toBeUndefined();
        expect(await store.list()).toEqual([]);
      });

      it('keeps the fields a change leaves out, and the first settledAt', async () => {
        const facts = await recordIn('settling', T0);
        await store.change(facts.key, ['settling'], {
          state: 'settled',
          transaction: '0xabc',
          detail: 'first',
          at: T0 + 1,
        });
        await store.change(facts.key, ['settled'], { state: 'confirmed', at: T0 + 2 });
        expect(await store.get(facts.key)).toMatchObject({
          state: 'confirmed',
          transaction: '0xabc',
          detail: 'first',
          settledAt: T0 + 1,
          confirmedAt: T0 + 2,
          updatedAt: T0 + 2,
        });
        await store.change(facts.key, ['confirmed'], {
          state: 'disputed',
          detail: 'reorged',
          at: T0 + 3,
        });
        expect(await store.get(facts.key)).toMatchObject({
          state: 'disputed',
          transaction: '0xabc',
          detail: 'reorged',
          settledAt: T0 + 1,
          confirmedAt: T0 + 2,
          updatedAt: T0 + 3,
        });
      });

      it('sets no settledAt for a state that is not paid', async () => {
        const facts = await recordIn('settling', T0);
        await store.change(facts.key, ['settling'], { state: 'unknown', at: T0 + 1 });
        await store.change(facts.key, ['unknown'], { state: 'failed', at: T0 + 2 });
        expect(await store.get(facts.key)).toMatchObject({
          state: 'failed',
          settledAt: undefined,
          confirmedAt: undefined,
          updatedAt: T0 + 2,
        });
      });

      it('stamps the change with now when it has no time', async () => {
        const facts = await recordIn('settling', T0);
        const before = Date.now();
        await store.change(facts.key, ['settling'], { state: 'settled', transaction: '0x1' });
        const after = Date.now();
        const record = (await store.get(facts.key))!;
        expect(record.updatedAt).toBeGreaterThanOrEqual(before);
        expect(record.updatedAt).toBeLessThanOrEqual(after);
        expect(record.settledAt).toBe(record.updatedAt);
      });
    });

    describe('resolutions', () => {
      it('records who changed a record, from what to what, with the note or the detail', async () => {
        const facts = await recordIn('settling', T0);
        await store.change(facts.key, ['settling'], { state: 'unknown', at: T0 + 1 });
        expect(await store.resolutions(facts.key)).toEqual([]);

        await store.change(
          facts.key,
          ['unknown'],
          { state: 'settled', transaction: '0x1', detail: 'our Transfer is on chain', at: T0 + 2 },
          'reconciler',
        );
        await store.change(
          facts.key,
          ['settled'],
          { state: 'disputed', detail: 'vanished', at: T0 + 3 },
          'operator',
          'refunded by hand',
        );
        // Refused by its guard: no resolution either.
        await store.change(facts.key, ['settling'], { state: 'failed', at: T0 + 4 }, 'operator');
        await store.change(facts.key, ['disputed'], { state: 'confirmed', at: T0 + 5 }, 'operator');

        expect(await store.resolutions(facts.key)).toEqual([
          {
            key: facts.key,
            from: 'unknown',
            to: 'settled',
            by: 'reconciler',
            note: 'our Transfer is on chain',
            at: T0 + 2,
          },
          {
            key: facts.key,
            from: 'settled',
            to: 'disputed',
            by: 'operator',
            note: 'refunded by hand',
            at: T0 + 3,
          },
          {
            key: facts.key,
            from: 'disputed',
            to: 'confirmed',
            by: 'operator',
            note: '',
            at: T0 + 5,
          },
        ]);
      });

      it('keeps each record’s resolutions apart', async () => {
        const a = await recordIn('unknown', T0);
        const b = await recordIn('unknown', T0);
        await store.change(a.key, ['unknown'], { state: 'failed', at: T0 + 1 }, 'reconciler', 'a');
        await store.change(b.key, ['unknown'], { state: 'settled', at: T0 + 1 }, 'operator', 'b');
        expect((await store.resolutions(a.key)).map((r) => r.note)).toEqual(['a']);
        expect((await store.resolutions(b.key)).map((r) => r.note)).toEqual(['b']);
      });
    });

    describe('attempts', () => {
      it('keeps every attempt of a record, in order, field for field', async () => {
        const facts = await recordIn('settling', T0);
        const first = attemptOf(facts.key, {
          requestId: 'r1',
          outcome: 'settlement_pending',
          status: 503,
          served: false,
          delivered: false,
          startedAt: T0,
          endedAt: T0 + 3,
        });
        const second = attemptOf(facts.key, {
          requestId: 'r2',
          startedAt: T0 + 9,
          endedAt: T0 + 12,
        });
        store.attempt(first);
        store.attempt(second);
        store.attempt(attemptOf('84532:0xa:0xb:0xother', { requestId: 'r3' }));
        expect(await store.attempts(facts.key)).toEqual([first, second]);
      });

      it('stamps deliveredAt with the first delivered attempt’s end', async () => {
        const facts = await recordIn('settled', T0);
        store.attempt(attemptOf(facts.key, { delivered: false, served: true, endedAt: T0 + 1 }));
        expect((await store.get(facts.key))?.deliveredAt).toBeUndefined();
        store.attempt(attemptOf(facts.key, { delivered: true, endedAt: T0 + 2 }));
        expect((await store.get(facts.key))?.deliveredAt).toBe(T0 + 2);
        store.attempt(attemptOf(facts.key, { delivered: true, endedAt: T0 + 3 }));
        expect((await store.get(facts.key))?.deliveredAt).toBe(T0 + 2);
      });

      it('keeps an attempt whose key has no record, and makes none', async () => {
        const orphan = attemptOf('84532:0xa:0xb:0xorphan', { outcome: 'verify_failed' });
        store.attempt(orphan);
        expect(await store.attempts(orphan.key)).toEqual([orphan]);
        expect(await store.get(orphan.key)).toBeUndefined();
      });
    });

    describe('redeem', () => {
      it('counts redemptions up to max, then refuses', async () => {
        const facts = await recordIn('settled', T0);
        const changed = { kind: 'changed', changed: true, from: 'settled' };
        expect(await store.redeem(facts.key, 2, T0 + 10)).toEqual(changed);
        expect(await store.redeem(facts.key, 2, T0 + 11)).toEqual(changed);
        expect(await store.redeem(facts.key, 2, T0 + 12)).toEqual({ ...changed, changed: false });
        expect(await store.get(facts.key)).toMatchObject({
          state: 'settled',
          redemptions: 2,
          updatedAt: T0 + 11,
        });
        const redemption = {
          key: facts.key,
          from: 'settled',
          to: 'settled',
          by: 'redemption',
          note: 'served again',
        };
        expect(await store.resolutions(facts.key)).toEqual([
          { ...redemption, at: T0 + 10 },
          { ...redemption, at: T0 + 11 },
        ]);
        // A higher cap later allows one more.
        expect(await store.redeem(facts.key, 3, T0 + 13)).toEqual(changed);
        expect((await store.get(facts.key))?.redemptions).toBe(3);
      });

      it('refuses a redemption once a response went out whole', async () => {
        const facts = await recordIn('settled', T0);
        expect(await store.redeem(facts.key, 3, T0 + 1)).toMatchObject({ changed: true });
        store.attempt(attemptOf(facts.key, { outcome: 'redeemed', delivered: true }));
        expect(await store.redeem(facts.key, 3, T0 + 3)).toEqual({
          kind: 'changed',
          changed: false,
          from: 'settled',
        });
        expect((await store.get(facts.key))?.redemptions).toBe(1);
      });

      it.each(['disputed', 'unknown', 'settling', 'failed', 'released'] as const)(
        'refuses a redemption of a %s payment',
        async (state) => {
          const facts = await recordIn(state, T0);
          expect(await store.redeem(facts.key, 3, T0 + 1)).toEqual({
            kind: 'changed',
            changed: false,
            from: state,
          });
        },
      );

      it('redeems a confirmed payment', async () => {
        const facts = await recordIn('confirmed', T0);
        expect(await store.redeem(facts.key, 3, T0 + 1)).toMatchObject({ changed: true });
      });

      it('refuses a redemption when max is 0', async () => {
        const facts = await recordIn('settled', T0);
        expect(await store.redeem(facts.key, 0, T0 + 1)).toEqual({
          kind: 'changed',
          changed: false,
          from: 'settled',
        });
        expect(await store.resolutions(facts.key)).toEqual([]);
      });

      it('redeems nothing for a key it never saw', async () => {
        expect(await store.redeem('84532:0xa:0xb:0xc', 5, T0)).toEqual({
          kind: 'changed',
          changed: false,
          from: undefined,
        });
        expect(await store.resolutions('84532:0xa:0xb:0xc')).toEqual([]);
      });

      it('never goes beyond max under concurrent calls', async () => {
        const facts = await recordIn('settled', T0);
        const results = await Promise.all(
          Array.from({ length: 25 }, (_, i) => store.redeem(facts.key, 5, T0 + i)),
        );
        expect(results.filter((r) => r.kind === 'changed' && r.changed)).toHaveLength(5);
        expect((await store.get(facts.key))?.redemptions).toBe(5);
        expect(await store.resolutions(facts.key)).toHaveLength(5);
      });
    });

    describe('revenue', () => {
      it('sums amounts exactly, beyond 2^53', async () => {
        await recordIn('settled', T0, { amount: '9007199254740993' });
        await recordIn('confirmed', T0, { amount: '1' });
        const huge = '123456789012345678901234567890';
        await recordIn('settled', T0, {
          amount: huge,
          payTo: '0x9999999999999999999999999999999999999999',
        });
        await recordIn('settled', T0, {
          amount: huge,
          payTo: '0x9999999999999999999999999999999999999999',
        });
        const base = paymentFacts();
        expect(byGroup(await store.revenue())).toEqual(
          byGroup([
            {
              route: base.route,
              network: base.network,
              asset: base.asset,
              payTo: base.payTo,
              amount: '9007199254740994',
              count: 2,
            },
            {
              route: base.route,
              network: base.network,
              asset: base.asset,
              payTo: '0x9999999999999999999999999999999999999999',
              amount: '246913578024691357802469135780',
              count: 2,
            },
          ]),
        );
      });

      it('counts settled, confirmed and disputed records, and nothing else', async () => {
        let n = 0;
        for (const state of ['settled', 'confirmed', 'disputed'] as const) {
          await recordIn(state, T0, { amount: String(10 ** n++) });
        }
        for (const state of ['settling', 'unknown', 'failed', 'released', 'declined'] as const) {
          await recordIn(state, T0, { amount: '5000000' });
        }
        const totals = await store.revenue();
        expect(totals).toHaveLength(1);
        expect(totals[0]).toMatchObject({ amount: '111', count: 3 });
      });

      it('keeps a total per route, network, asset and payTo', async () => {
        const groups: Array<Partial<PaymentFacts>> = [
          {},
          { route: 'POST /v1/other', method: 'POST' },
          { network: 'eip155:8453' },
          { asset: '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913' },
          { payTo: '0x4444444444444444444444444444444444444444' },
        ];
        for (const g of groups) {
          await recordIn('settled', T0, { ...g, amount: '7' });
          await recordIn('settled', T0, { ...g, amount: '8' });
        }
        const totals = await store.revenue();
        expect(totals).toHaveLength(groups.length);
        for (const t of totals) expect(t).toMatchObject({ amount: '15', count: 2 });
        const base = paymentFacts();
        expect(totals.map((t) => t.route).sort()).toEqual(
          [base.route, base.route, base.route, base.route, 'POST /v1/other'].sort(),
        );
      });
    });

    describe('revenue per owner', () => {
      const owned = options.owned;
      if (owned === undefined) {
        it('records no owner: revenue({ owner }) is every record’s, and nothing is adopted', async () => {
          const settled = await recordIn('settled', T0, { amount: '7' });
          await recordIn('confirmed', T0, { amount: '8' });
          expect((await store.get(settled.key))?.owner).toBeUndefined();
          expect(await store.revenue({ owner: 'gw-a' })).toEqual(await store.revenue());
          expect(await store.revenue({ owner: 'gw-a' })).toEqual([
            expect.objectContaining({ amount: '15', count: 2 }),
          ]);
          expect('adopt' in store).toBe(false);
        });
        return;
      }

      /** Two instances (`gw-a`, `gw-b`) on the suite's book; `store` has no owner (a command). */
      const instances = async <T>(
        run: (a: LedgerStore, b: LedgerStore) => Promise<T>,
      ): Promise<T> => {
        const a = owned('gw-a');
        const b = owned('gw-b');
        await Promise.all([a.open(), b.open()]);
        try {
          return await run(a, b);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      };

      const settle = (s: LedgerStore, key: string, from: LedgerState[] = ['settling']) =>
        s.change(key, from, { state: 'settled', transaction: '0xabc', at: T0 + 1 });

      it('the store that moves a record to settled owns it; revenue({ owner }) sums only its own', async () => {
        await instances(async (a, b) => {
          const [k1, k2, k3, k4] = [
            paymentFacts({ amount: '1' }),
            paymentFacts({ amount: '20' }),
            paymentFacts({ amount: '300' }),
            paymentFacts({ amount: '4000' }),
          ];
          for (const f of [k1, k2, k3, k4]) expect(await store.begin(f, T0)).toEqual(NEW);
          expect(await settle(a, k1.key)).toMatchObject({ changed: true });
          expect(await settle(b, k2.key)).toMatchObject({ changed: true });
          // The other instance finds it moved: nothing written, the owner stays.
          expect(await settle(a, k2.key)).toMatchObject({ changed: false, from: 'settled' });
          // An operator's resolve (a store with no owner): owned by nobody.
          await store.change(k3.key, ['settling'], { state: 'settled' }, 'operator', 'found it');
          // Unknown on one instance, settled by the other's reconciler.
          await a.change(k4.key, ['settling'], { state: 'unknown' });
          await b.change(k4.key, ['unknown'], { state: 'settled' }, 'reconciler');
          // A later move keeps the owner (confirmed by the other instance's reconciler).
          await b.change(k1.key, ['settled'], { state: 'confirmed' }, 'reconciler');

          const owners = await Promise.all([k1, k2, k3, k4].map(async (f) => store.get(f.key)));
          expect(owners.map((r) => [r?.state, r?.owner])).toEqual([
            ['confirmed', 'gw-a'],
            ['settled', 'gw-b'],
            ['settled', undefined],
            ['settled', 'gw-b'],
          ]);
          expect(await a.revenue({ owner: 'gw-a' })).toEqual([
            expect.objectContaining({ amount: '1', count: 1 }),
          ]);
          expect(await a.revenue({ owner: 'gw-b' })).toEqual([
            expect.objectContaining({ amount: '4020', count: 2 }),
          ]);
          expect(await a.revenue({ owner: 'gw-c' })).toEqual([]);
          expect(await b.revenue()).toEqual([
            expect.objectContaining({ amount: '4321', count: 4 }),
          ]);
        });
      });

      it('adopt gives the paid records nobody owns to one instance, once, with their totals', async () => {
        await instances(async (a, b) => {
          const unowned = [paymentFacts({ amount: '5' }), paymentFacts({ amount: '6' })];
          const open = paymentFacts({ amount: '7' });
          for (const f of [...unowned, open]) expect(await store.begin(f, T0)).toEqual(NEW);
          for (const f of unowned) await settle(store, f.key);
          // A store without an owner (a command) adopts nothing.
          expect(await store.adopt?.()).toEqual([]);
          // Two instances starting at once: each record goes to one of them.
          const [fromA, fromB] = await Promise.all([a.adopt!(), b.adopt!()]);
          const counted = [...fromA, ...fromB];
          expect(counted.reduce((n, t) => n + t.count, 0)).toBe(2);
          expect(counted.reduce((n, t) => n + BigInt(t.amount), 0n)).toBe(11n);
          // What each answered is what it now owns; the settling record is nobody's.
          const sum = (ts: readonly { amount: string }[]) =>
            ts.reduce((n, t) => n + BigInt(t.amount), 0n);
          expect(sum(await a.revenue({ owner: 'gw-a' }))).toBe(sum(fromA));
          expect(sum(await a.revenue({ owner: 'gw-b' }))).toBe(sum(fromB));
          expect((await store.get(open.key))?.owner).toBeUndefined();
          expect(await a.adopt!()).toEqual([]);
        });
      });
    });

    describe('unresolved', () => {
      it('counts unresolved records per state and finds the oldest one', async () => {
        await recordIn('settled', T0 - 1_000);
        await recordIn('released', T0 - 2_000);
        await recordIn('failed', T0 - 3_000);
        await recordIn('settling', T0 + 10);
        await recordIn('settling', T0 + 20);
        await recordIn('unknown', T0 + 5);
        expect(await store.unresolved()).toEqual({
          counts: { settling: 2, unknown: 1 },
          oldestAt: T0 + 5,
        });
      });

      it('forgets a record once it is resolved', async () => {
        const facts = await recordIn('unknown', T0);
        expect(await store.unresolved()).toEqual({ counts: { unknown: 1 }, oldestAt: T0 });
        await store.change(facts.key, ['unknown'], { state: 'settled', at: T0 + 1 }, 'reconciler');
        expect(await store.unresolved()).toEqual({ counts: {}, oldestAt: undefined });
      });
    });

    describe('list', () => {
      /** Keys chosen so that records created at the same time are ordered by key. */
      async function fill(): Promise<Record<string, string>> {
        const keys: Record<string, string> = {};
        const add = async (name: string, state: LedgerState, at: number) => {
          const facts = await recordIn(state, at, { key: `84532:0xa:0xb:${name}` });
          keys[name] = facts.key;
        };
        await add('k3-delivered', 'settled', T0 + 1);
        store.attempt(attemptOf(keys['k3-delivered']!, { delivered: true, endedAt: T0 + 2 }));
        await add('k2-undelivered', 'settled', T0 + 2);
        await add('k1-released', 'released', T0 + 2);
        await add('k4-confirmed', 'confirmed', T0 + 3);
        await add('k5-unknown', 'unknown', T0 + 4);
        await add('k0-failed', 'failed', T0 + 5);
        await add('k6-disputed', 'disputed', T0 + 6);
        return keys;
      }

      const names = (records: Array<{ key: string }>) =>
        records.map((r) => r.key.slice('84532:0xa:0xb:'.length));

      it('lists every record by creation time, then key', async () => {
        await fill();
        expect(names(await store.list())).toEqual([
          'k3-delivered',
          'k1-released',
          'k2-undelivered',
          'k4-confirmed',
          'k5-unknown',
          'k0-failed',
          'k6-disputed',
        ]);
        expect(names(await store.list({}))).toHaveLength(7);
      });

      it('filters by state, creation time, undelivered, and limits', async () => {
        await fill();
        expect(names(await store.list({ states: ['settled', 'unknown'] }))).toEqual([
          'k3-delivered',
          'k2-undelivered',
          'k5-unknown',
        ]);
        expect(names(await store.list({ states: [] }))).toEqual([]);
        expect(names(await store.list({ since: T0 + 3 }))).toEqual([
          'k4-confirmed',
          'k5-unknown',
          'k0-failed',
          'k6-disputed',
        ]);
        expect(names(await store.list({ undelivered: true }))).toEqual([
          'k2-undelivered',
          'k4-confirmed',
          'k6-disputed',
        ]);
        expect(names(await store.list({ undelivered: false }))).toHaveLength(7);
        expect(names(await store.list({ limit: 2 }))).toEqual(['k3-delivered', 'k1-released']);
        expect(names(await store.list({ limit: 0 }))).toEqual([]);
        expect(
          names(await store.list({ states: ['settled', 'confirmed'], since: T0 + 2, limit: 1 })),
        ).toEqual(['k2-undelivered']);
        expect(
          names(await store.list({ undelivered: true, states: ['confirmed', 'released'] })),
        ).toEqual(['k4-confirmed']);
      });

      it('filters by settlement time, however long after its creation a record settled', async () => {
        const early = paymentFacts();
        await store.begin(early, T0);
        await store.change(early.key, ['settling'], { state: 'unknown', at: T0 + 1 });
        // Unknown for days, then settled: created long ago, settled recently.
        await store.change(early.key, ['unknown'], { state: 'settled', at: T0 + 5_000 });
        const late = paymentFacts();
        await store.begin(late, T0 + 10);
        await store.change(late.key, ['settling'], { state: 'settled', at: T0 + 20 });
        const keys = (rs: readonly { key: string }[]) => rs.map((r) => r.key);
        expect(keys(await store.list({ settledSince: T0 + 1_000 }))).toEqual([early.key]);
        expect(keys(await store.list({ settledSince: T0 + 20, undelivered: true }))).toEqual([
          early.key,
          late.key,
        ]);
        expect(await store.list({ settledSince: T0 + 5_001 })).toEqual([]);
      });

      it('filters by network', async () => {
        await fill();
        const other = paymentFacts({ network: 'eip155:8453' });
        await store.begin(other, T0 + 9);
        expect(names(await store.list({ networks: ['eip155:8453'] }))).toHaveLength(1);
        expect((await store.list({ networks: ['eip155:8453'] }))[0]?.key).toBe(other.key);
        expect(await store.list({ networks: [] })).toEqual([]);
        expect(await store.list({ networks: ['eip155:84532'] })).toHaveLength(7);
      });

      it('filters by validBefore', async () => {
        const early = paymentFacts({ validBefore: 1_000 });
        const late = paymentFacts({ validBefore: 2_000 });
        await store.begin(early, T0);
        await store.begin(late, T0 + 1);
        expect((await store.list({ validBeforeFrom: 1_500 })).map((r) => r.key)).toEqual([
          late.key,
        ]);
        expect(await store.list({ validBeforeFrom: 1_000 })).toHaveLength(2);
      });

      it('returns whole records', async () => {
        const keys = await fill();
        const listed = await store.list({ states: ['settled'] });
        expect(listed[0]).toEqual(await store.get(keys['k3-delivered']!));
        expect(listed[0]?.deliveredAt).toBe(T0 + 2);
      });
    });

    describe('the amount column', () => {
      it.each(['1.5', '-1', '', '1e3', ' 1', '0x10', '12a', '١٢'])(
        'refuses the amount %j: the write rejects and nothing is written',
        async (amount) => {
          const facts = paymentFacts({ amount });
          await ledgerError(store.begin(facts, T0), 'write');
          expect(await store.get(facts.key)).toBeUndefined();
        },
      );

      it('a refused write fails alone: the writes beside it are made', async () => {
        const good1 = paymentFacts();
        const bad = paymentFacts({ amount: '10.00' });
        const good2 = paymentFacts();
        const [r1, r2, r3] = await Promise.allSettled([
          store.begin(good1, T0),
          store.begin(bad, T0),
          store.begin(good2, T0),
        ]);
        expect(r1).toEqual({ status: 'fulfilled', value: NEW });
        expect(r2?.status).toBe('rejected');
        expect(r3).toEqual({ status: 'fulfilled', value: NEW });
        expect(await store.list()).toHaveLength(2);
      });

      it('an audit with a bad amount writes nothing and throws nothing', async () => {
        const facts = paymentFacts({ amount: '1,000' });
        expect(() => store.audit(facts, 'released', T0)).not.toThrow();
        expect(await store.get(facts.key)).toBeUndefined();
      });

      it('keeps leading zeros as written, and sums them as numbers', async () => {
        const facts = await recordIn('settled', T0, { amount: '000123' });
        expect((await store.get(facts.key))?.amount).toBe('000123');
        expect((await store.revenue())[0]?.amount).toBe('123');
      });
    });

    describe('hooks', () => {
      it('onWrite: once per answered awaited write, never for a read or an append', async () => {
        const facts = paymentFacts();
        await store.begin(facts, T0);
        await store.begin({ ...facts, digest: 'other' }, T0); // a conflict is an answer too
        await store.change(facts.key, ['unknown'], { state: 'failed' }); // and so is "unchanged"
        await store.change(facts.key, ['settling'], { state: 'settled', at: T0 });
        await store.redeem(facts.key, 1, T0);
        store.audit(paymentFacts(), 'released', T0);
        store.attempt(attemptOf(facts.key));
        await store.get(facts.key);
        await store.list();
        expect(hooks.onWrite).toHaveBeenCalledTimes(5);
        for (const [seconds] of hooks.onWrite.mock.calls) expect(seconds).toBeGreaterThanOrEqual(0);
        expect(hooks.onError).not.toHaveBeenCalled();
      });

      it('onMove: a new or re-opened record, and every change that moved one', async () => {
        const facts = paymentFacts();
        await store.begin(facts, T0); // undefined → settling
        await store.begin(facts, T0 + 1); // resumed: no move
        await store.change(facts.key, ['unknown'], { state: 'failed' }); // refused: no move
        await store.change(facts.key, ['settling'], { state: 'unknown', at: T0 }); // settling → unknown
        await store.begin(facts, T0 + 2); // resumed: no move
        await store.change(facts.key, ['unknown'], { state: 'unknown', detail: 'again' }); // same
        await store.change(facts.key, ['unknown'], { state: 'settled', at: T0 }, 'reconciler');
        await store.redeem(facts.key, 3, T0); // no move
        await store.begin(facts, T0); // conflict: no move

        const released = paymentFacts();
        store.audit(released, 'released', T0); // appended: not reported
        await store.begin(released, T0 + 3); // released → settling
        expect(hooks.onMove.mock.calls).toEqual([
          [undefined, 'settling'],
          ['settling', 'unknown'],
          ['unknown', 'settled'],
          ['released', 'settling'],
        ]);
      });

      it('onError: a refused awaited write, with kind write and the error it rejected with', async () => {
        const error = await ledgerError(store.begin(paymentFacts({ amount: 'ten' }), T0), 'write');
        expect(hooks.onError).toHaveBeenCalledWith('write', error);
        expect(hooks.onMove).not.toHaveBeenCalled();
      });

      it('onError: a refused append, with kind write', async () => {
        store.audit(paymentFacts({ amount: '-5' }), 'declined', T0);
        await vi.waitFor(() =>
          expect(hooks.onError).toHaveBeenCalledWith('write', expect.any(Error)),
        );
      });
    });

    describe('under load', () => {
      it('begins 500 payments at once, every one of them written', async () => {
        const all = Array.from({ length: 500 }, (_, i) => paymentFacts({ amount: String(i + 1) }));
        const results = await Promise.all(all.map((f, i) => store.begin(f, T0 + i)));
        expect(results.every((r) => r.kind === 'begun')).toBe(true);
        const listed = await store.list();
        expect(listed).toHaveLength(500);
        expect(listed.map((r) => r.key)).toEqual(all.map((f) => f.key));
        expect(await store.unresolved()).toEqual({ counts: { settling: 500 }, oldestAt: T0 });
        // And every one can move on.
        const moved = await Promise.all(
          all.map((f) => store.change(f.key, ['settling'], { state: 'settled', at: T0 + 1_000 })),
        );
        expect(moved.every((r) => r.kind === 'changed' && r.changed)).toBe(true);
        expect(await store.revenue()).toEqual([
          expect.objectContaining({ amount: String((500 * 501) / 2), count: 500 }),
        ]);
      });
    });
  });
}
