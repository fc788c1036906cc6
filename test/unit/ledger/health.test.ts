/**
 * Readiness of the book for paid requests: a dead writer, or a last write that failed after the
 * last success, is not ready; the next success is. A failed read says nothing about writing.
 */
import { describe, expect, it } from 'vitest';
import { LedgerHealth } from '../../../src/ledger/index.js';

describe('LedgerHealth', () => {
  it('follows the last awaited write, and the writer being up', () => {
    let now = 1_000;
    const health = new LedgerHealth(() => now);
    const seen: string[] = [];
    const hooks = health.hooks({
      onWrite: () => seen.push('write'),
      onError: (kind) => seen.push(kind),
    });
    expect(health.readiness(true)).toEqual({ ready: true, detail: 'ledger writable' });
    expect(health.readiness(false).ready).toBe(false);

    hooks.onWrite!(0.001);
    now = 2_000;
    hooks.onError!('write', new Error('disk full'));
    expect(health.readiness(true)).toMatchObject({ ready: false });
    expect(health.readiness(true).detail).toContain('disk full');

    now = 3_000;
    hooks.onError!('read', new Error('busy'));
    hooks.onWrite!(0.002);
    expect(health.readiness(true).ready).toBe(true);
    now = 4_000;
    hooks.onError!('read', new Error('busy'));
    expect(health.readiness(true).ready).toBe(true);
    // The caller's own hooks still run.
    expect(seen).toEqual(['write', 'write', 'read', 'write', 'read']);
  });
});
