/**
 * Whether the book can take a paid request now, for readiness' paid section. A writer thread that
 * is alive is not enough: a full disk, a read-only file or a locked database fail every write
 * while the thread runs. So the last awaited write decides: one that failed after the last success
 * makes the book not ready (paid requests get 503 `ledger_unavailable` meanwhile), and the next
 * success makes it ready again.
 */
import type { LedgerErrorKind, LedgerHooks } from './store.js';

export interface LedgerReadiness {
  readonly ready: boolean;
  readonly detail: string;
}

export class LedgerHealth {
  #failedAt = 0;
  #succeededAt = 0;
  #lastError = '';

  constructor(private readonly now: () => number = Date.now) {}

  /** Hooks to pass to the store, wrapping the caller's own. */
  hooks(inner: LedgerHooks = {}): LedgerHooks {
    return {
      ...inner,
      onWrite: (seconds) => {
        this.#succeededAt = this.now();
        inner.onWrite?.(seconds);
      },
      onError: (kind, err) => {
        this.#failed(kind, err);
        inner.onError?.(kind, err);
      },
    };
  }

  /** `writable`: the store's own word (its writer is up). */
  readiness(writable: boolean): LedgerReadiness {
    if (!writable) {
      return {
        ready: false,
        detail:
          'the ledger cannot write (its writer is down): paid requests get 503 ledger_unavailable',
      };
    }
    if (this.#failedAt > 0 && this.#failedAt >= this.#succeededAt) {
      return {
        ready: false,
        detail: `the ledger's last write failed (${this.#lastError}) at ${new Date(this.#failedAt).toISOString()}: paid requests get 503 ledger_unavailable until a write succeeds`,
      };
    }
    return { ready: true, detail: 'ledger writable' };
  }

  #failed(kind: LedgerErrorKind, err: Error): void {
    // A failed read says nothing about writing.
    if (kind === 'read') return;
    this.#failedAt = this.now();
    this.#lastError = err.message;
  }
}
