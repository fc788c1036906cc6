/** Messages between the gateway's thread and the ledger's writer thread (sqlite-worker.ts). */
import type { RecordFilter } from './record.js';
import type { WriteOp } from './sqlite-book.js';

export type ReadOp =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'list'; readonly filter: RecordFilter }
  | { readonly op: 'attempts'; readonly key: string }
  | { readonly op: 'resolutions'; readonly key: string }
  | { readonly op: 'revenue' }
  | { readonly op: 'unresolved' }
  | { readonly op: 'backup'; readonly path: string };

export type Op = WriteOp | ReadOp;

/** Sent to the writer: ops with their ids (0 = no answer wanted). */
export interface Request {
  readonly ids: readonly number[];
  readonly ops: readonly Op[];
}

export interface WireError {
  readonly message: string;
  readonly code: string | undefined;
}

/** Sent back, one per flush: `[id, value]` or `[id, undefined, error]` for each answered op. */
export type Reply =
  | { readonly type: 'ready' }
  | { readonly type: 'open-failed'; readonly error: WireError }
  | {
      readonly type: 'results';
      readonly results: ReadonlyArray<readonly [number, unknown, WireError?]>;
    }
  /** Ops that were not answered (fire-and-forget) but failed: counted, logged. */
  | { readonly type: 'dropped'; readonly count: number; readonly error: WireError };

export function isWriteOp(op: Op): op is WriteOp {
  return (
    op.op === 'begin' ||
    op.op === 'audit' ||
    op.op === 'change' ||
    op.op === 'attempt' ||
    op.op === 'redeem'
  );
}

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    return { message: err.message, code: (err as { code?: string }).code };
  }
  return { message: String(err), code: undefined };
}
