/**
 * Runs the ordered stage list for each request. The first Reply halts the chain; `observe` runs
 * exactly once per request, after the pipeline has finished and the response has closed.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestContext } from './context.js';
import type { Deps } from './deps.js';
import { errorReply, writeHeadOrClose } from './replies.js';
import { HANDLED, type Reply, type Stage } from './stage.js';
import { refuseBody } from './refused-body.js';
import { GATEWAY_REASON, REASON_LABELS } from './reasons.js';
import type { Generations } from './generations.js';
import { releaseWhenDurable } from './fleet-hold.js';
import { countClientFailure } from './rate-limited.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Each request takes the current generation's deps on arrival and keeps them to its end: a reload
 * (generations.ts) changes what the next request sees, never one in flight.
 */
export function createHandler(generations: Generations, stages: readonly Stage[]): RequestHandler {
  // Request ids: a per-process random prefix and a counter — unique, and far cheaper than a UUID.
  const prefix = randomBytes(4).toString('hex');
  let sequence = 0;
  // Restart-only (config/reload.ts): the same in every generation.
  const trustProxy = generations.current.deps.config.server.trustProxy;
  return (req, res) => {
    const generation = generations.current;
    const deps = generation.deps;
    generation.active++;
    deps.inFlight.count++;
    // Behind our own proxy its id is kept, so one request has one id in every log along the way.
    const id =
      (trustProxy && proxyRequestId(req, deps)) || `${prefix}-${(++sequence).toString(36)}`;
    const ctx = new RequestContext(req, res, id, performance.now());
    let pending = 2; // pipeline done + response closed
    const done = (): void => {
      if (--pending !== 0) return;
      try {
        observe(ctx, deps);
      } finally {
        generation.leave();
      }
    };
    res.once('close', () => {
      if (!res.writableEnded) ctx.clientGone = true;
      done();
    });
    // runStages never rejects (it catches everything) and calls `done` last.
    void runStages(ctx, deps, stages, done);
  };
}

/** An X-Request-Id a trusted proxy sent, if well formed: 1–128 of [A-Za-z0-9._:-]; else ''. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

function proxyRequestId(req: IncomingMessage, deps: Deps): string {
  const sent = req.headers['x-request-id'];
  if (typeof sent !== 'string' || !REQUEST_ID.test(sent)) return '';
  return deps.clients.fromProxy(req.socket) ? sent : '';
}

async function runStages(
  ctx: RequestContext,
  deps: Deps,
  stages: readonly Stage[],
  done: () => void,
): Promise<void> {
  try {
    for (const stage of stages) {
      if (stage.paidOnly && !ctx.paid) continue;
      let result = stage.run(ctx, deps);
      if (result instanceof Promise) result = await result;
      if (result === undefined) continue;
      if (result !== HANDLED) writeReply(ctx, deps, result);
      break;
    }
  } catch (error) {
    deps.log.error({ reqId: ctx.id, err: error }, 'request failed with an unexpected error');
    ctx.outcome = 'error';
    ctx.reason = GATEWAY_REASON.internalError;
    ctx.upstream?.discard();
    if (!ctx.res.headersSent)
      writeReply(ctx, deps, errorReply(500, GATEWAY_REASON.internalError, 'internal error'));
    else ctx.res.destroy();
  } finally {
    // Checked here, not inside: most requests hold no claim by now, and an await costs a tick.
    if (ctx.payment !== undefined && !ctx.payment.decided) await settleLeftoverClaim(ctx, deps);
    done();
  }
}

/**
 * A payment not ended here means a path forgot to end it (a bug) or threw. Before a settle request
 * money did not move: released; after one its outcome is unknown: kept pending (Payment.abandon).
 */
async function settleLeftoverClaim(ctx: RequestContext, deps: Deps): Promise<void> {
  try {
    await ctx.payment?.abandon(ctx.transaction);
  } catch (error) {
    deps.log.error({ reqId: ctx.id, err: error }, 'could not end a replay claim');
  }
}

function writeReply(ctx: RequestContext, deps: Deps, reply: Reply): void {
  const { res } = ctx;
  if (res.headersSent || res.destroyed) return;
  // A refusal never drains the body it refused (refused-body.ts).
  const close = refuseBody(ctx.req, res, deps.config.server.limits.refusedBodyBytes);
  const written = writeHeadOrClose(ctx, deps, reply.status, {
    ...reply.headers,
    ...close,
    'content-length': Buffer.byteLength(reply.body),
    'x-request-id': ctx.id,
  });
  if (!written) return;
  // Node sends no body for HEAD by itself; the length above still tells the client its size.
  res.end(reply.body);
}

function observe(ctx: RequestContext, deps: Deps): void {
  const { metrics } = deps;
  deps.inFlight.count--;
  if (ctx.clientKey !== '') deps.clients.leave(ctx.clientKey);
  const payment = ctx.payment;
  const paidFor =
    payment?.state === 'settled' || ctx.outcome === 'redeemed' || ctx.outcome === 'credited';
  // The response finished only if the whole upstream body went out (a broken body destroys it) to
  // a client still there: node reports a response ended on a closed socket as finished too.
  const delivered = paidFor && ctx.res.writableFinished && !ctx.clientGone;
  if (paidFor) {
    if (!delivered) {
      deps.log.warn(
        { reqId: ctx.id, tx: ctx.transaction, payer: ctx.payer },
        'paid response not delivered whole: the payer was charged',
      );
    } else if (payment?.state === 'settled') payment.delivered();
  }
  if (ctx.outcome === 'pending') ctx.outcome = ctx.clientGone ? 'client_gone' : 'served';
  const recordKey = ctx.credit?.key ?? payment?.record?.key ?? ctx.recalled?.record.key;
  if (recordKey !== undefined && deps.ledger !== undefined) {
    recordAttempt(ctx, deps, recordKey, paidFor, delivered);
  }
  // After the attempt row is queued: a next redemption of this record is written after it.
  if (ctx.heldRecord !== undefined) deps.recordsInUse.release(ctx.heldRecord);
  releaseWhenDurable(ctx, deps, delivered);
  countClientFailure(ctx, deps);
  const routeId = ctx.route?.id ?? 'unpriced';
  metrics.requests.labels(routeId, ctx.outcome).inc();
  if (ctx.headerValue !== undefined) {
    // No reason (a payment that went through) is `none`, not folded into `other` with unknown ones.
    metrics.payments
      .labels(ctx.outcome, ctx.reason === undefined ? 'none' : REASON_LABELS.label(ctx.reason))
      .inc();
  }
  // One line per request. Payment headers are never logged: only facts derived from them.
  // The line is not even built when the configured level drops it.
  if (!deps.log.isLevelEnabled('info')) return;
  const offer = ctx.offer;
  deps.accessLog({
    reqId: ctx.id,
    method: ctx.req.method,
    path: ctx.path,
    route: routeId,
    status: ctx.res.statusCode,
    outcome: ctx.outcome,
    reason: ctx.reason,
    payer: ctx.payer,
    amount: offer?.amountText,
    network: offer?.network.caip2,
    tx: ctx.transaction,
    ms: round(performance.now() - ctx.startMs),
    verifyMs: ctx.verifyMs < 0 ? undefined : round(ctx.verifyMs),
    upstreamMs: ctx.upstreamMs < 0 ? undefined : round(ctx.upstreamMs),
    settleMs: ctx.settleMs < 0 ? undefined : round(ctx.settleMs),
  });
}

/**
 * The request's row in the book's history, and whether its retry is still the book's to answer:
 * a settled or redeemed response that did not go out whole may be redeemed; a whole one is done.
 */
function recordAttempt(
  ctx: RequestContext,
  deps: Deps,
  key: string,
  paidFor: boolean,
  delivered: boolean,
): void {
  const endedAt = Date.now();
  deps.ledger!.attempt({
    key,
    requestId: ctx.id,
    outcome: ctx.outcome,
    status: ctx.res.headersSent ? ctx.res.statusCode : 0,
    served: paidFor && ctx.res.headersSent,
    delivered,
    startedAt: Math.round(endedAt - (performance.now() - ctx.startMs)),
    endedAt,
  });
  if (!paidFor) return;
  owed(ctx, deps, key, delivered);
  // A credit's record has its own nonce (in the index already); this request's was never settled.
  const nonce = ctx.credit === undefined ? ctx.auth?.nonce : undefined;
  if (nonce === undefined) return;
  if (delivered) deps.recallIndex.delete(nonce);
  else deps.recallIndex.add(nonce, key);
}

/** A paid response that went out whole settles what was owed; one that did not is owed still. */
function owed(ctx: RequestContext, deps: Deps, key: string, delivered: boolean): void {
  const credits = deps.credits;
  if (credits === undefined) return;
  if (delivered) {
    credits.spend(key);
    return;
  }
  if (ctx.credit !== undefined) {
    credits.giveBack(key);
    return;
  }
  const offer = ctx.offer;
  if (offer === undefined || ctx.route === undefined || ctx.auth === undefined) return;
  credits.grant({
    key,
    route: ctx.recalled?.record.route ?? ctx.route.id,
    payer: ctx.auth.from,
    network: offer.network.caip2,
    asset: offer.asset.address,
    payTo: offer.payTo,
    amount: offer.amountText,
    transaction: ctx.transaction,
    settledAt: ctx.recalled?.record.settledAt ?? Date.now(),
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
