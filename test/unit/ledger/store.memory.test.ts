/**
 * The in-memory ledger of test/helpers/memory-ledger.ts: the LedgerStore conformance suite, and
 * its `failWrites` switch (a book that cannot write, for fail-closed tests of its callers).
 */
import { describe, expect, it, vi } from 'vitest';
import { MemoryLedger } from '../../helpers/memory-ledger.js';
import { LedgerUnavailableError } from '../../../src/ledger/index.js';
import {
  attemptOf,
  ledgerConformance,
  ledgerError,
  NEW,
  paymentFacts,
  T0,
} from '../../helpers/ledger-conformance.js';

ledgerConformance('MemoryLedger', (hooks) =>
  Promise.resolve({ store: new MemoryLedger({ hooks }), cleanup: () => Promise.resolve() }),
);

describe('MemoryLedger', () => {
  async function opened() {
    const onError = vi.fn();
    const onWrite = vi.fn();
    const ledger = new MemoryLedger({ location: 'test', hooks: { onError, onWrite } });
    await ledger.open();
    return { ledger, onError, onWrite };
  }

  it('is kind memory, at the location it was given', async () => {
    const { ledger } = await opened();
    expect(ledger.kind).toBe('memory');
    expect(ledger.location).toBe('test');
    expect(new MemoryLedger().location).toBe('memory');
  });

  it('with failWrites, refuses every awaited write with kind write, and writes nothing', async () => {
    const { ledger, onError, onWrite } = await opened();
    const settled = paymentFacts();
    await ledger.begin(settled, T0);
    await ledger.change(settled.key, ['settling'], { state: 'settled', at: T0 });
    expect(onWrite).toHaveBeenCalledTimes(2);

    ledger.failWrites = true;
    expect(ledger.writable).toBe(false);
    const fresh = paymentFacts();
    const error = await ledgerError(ledger.begin(fresh, T0), 'write');
    await ledgerError(ledger.change(settled.key, ['settled'], { state: 'confirmed' }), 'write');
    await ledgerError(ledger.redeem(settled.key, 5, T0), 'write');
    expect(onError).toHaveBeenCalledTimes(3);
    expect(onError).toHaveBeenCalledWith('write', error);
    expect(onWrite).toHaveBeenCalledTimes(2);

    // Reads keep answering: the writes above left no trace.
    expect(await ledger.get(fresh.key)).toBeUndefined();
    expect(await ledger.get(settled.key)).toMatchObject({ state: 'settled', redemptions: 0 });
    expect(await ledger.resolutions(settled.key)).toEqual([]);
  });

  it('with failWrites, drops audits and attempts and reports them', async () => {
    const { ledger, onError } = await opened();
    ledger.failWrites = true;
    const facts = paymentFacts();
    ledger.audit(facts, 'released', T0);
    ledger.attempt(attemptOf(facts.key));
    expect(onError).toHaveBeenCalledTimes(2);
    expect(onError.mock.calls.map(([kind]: unknown[]) => kind)).toEqual(['write', 'write']);
    expect(await ledger.get(facts.key)).toBeUndefined();
    expect(await ledger.attempts(facts.key)).toEqual([]);
  });

  it('writes again once failWrites is off', async () => {
    const { ledger } = await opened();
    ledger.failWrites = true;
    const facts = paymentFacts();
    await ledgerError(ledger.begin(facts, T0), 'write');
    ledger.failWrites = false;
    expect(ledger.writable).toBe(true);
    expect(await ledger.begin(facts, T0)).toEqual(NEW);
  });

  it('answers nothing before open or after close, and is not writable then', async () => {
    const ledger = new MemoryLedger();
    expect(ledger.writable).toBe(false);
    await ledgerError(ledger.begin(paymentFacts(), T0), 'unavailable');
    await ledgerError(ledger.get('k'), 'unavailable');
    await ledger.open();
    expect(ledger.writable).toBe(true);
    await ledger.close();
    expect(ledger.writable).toBe(false);
    await ledgerError(ledger.list(), 'unavailable');
  });

  it('hands out copies: a caller cannot change the book by mutating an answer', async () => {
    const { ledger } = await opened();
    const facts = paymentFacts();
    await ledger.begin(facts, T0);
    const record = (await ledger.get(facts.key)) as { state: string };
    record.state = 'settled';
    expect((await ledger.get(facts.key))?.state).toBe('settling');
  });

  it('refuses a state that is not a ledger state, like the schema’s CHECK', async () => {
    const { ledger } = await opened();
    const facts = paymentFacts();
    await ledger.begin(facts, T0);
    const bogus = { state: 'paid' as unknown as 'settled' };
    await ledgerError(ledger.change(facts.key, ['settling'], bogus), 'write');
    expect((await ledger.get(facts.key))?.state).toBe('settling');
  });

  it('does not support backup', async () => {
    const { ledger } = await opened();
    const error = await ledger.backup('/tmp/nowhere.sqlite').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LedgerUnavailableError);
    expect((error as Error).message).toMatch(/not supported/);
  });
});
