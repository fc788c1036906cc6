/**
 * A stage is one named step of the request path. It returns `undefined` to continue, a `Reply` to
 * stop the chain with a gateway-made answer, or `HANDLED` when it has answered itself (streaming).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext } from './context.js';
import type { Deps } from './deps.js';

export interface Reply {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  /** Serialized body (JSON). Not sent for HEAD. */
  readonly body: string;
}

export const HANDLED = Symbol('handled');
export type StageResult = undefined | Reply | typeof HANDLED;

export interface Stage {
  readonly name: string;
  /** Skip this stage when the request pays nothing (free or unpriced path): the free fast path. */
  readonly paidOnly: boolean;
  run(ctx: RequestContext, deps: Deps): StageResult | Promise<StageResult>;
}
