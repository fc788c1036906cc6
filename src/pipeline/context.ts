/**
 * Fixed-shape per-request state: every field is set in the constructor, in one order, so V8 keeps
 * one hidden class for all requests (fastify's same-shape rule).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { UpstreamResponse } from '../proxy/index.js';
import type { PricedRoute } from '../pricing/index.js';
import type { RouteTarget } from './upstreams.js';
import { type FacilitatorMember, type FacilitatorRequest, verifyDigest } from '../verify/index.js';
import type { Credit, Payment, Recalled } from '../payment/index.js';
import type { Offer, PaymentPayload } from '../x402/index.js';

/** Bounded set of outcome labels (metrics and logs). */
export type Outcome =
  | 'pending'
  | 'served' // free or unpriced route forwarded
  | 'paid' // settled and served
  | 'challenge' // 402 without a payment
  | 'rejected' // 402: payment not acceptable
  | 'replay' // 402 payment_already_used
  | 'bad_request' // 400
  | 'not_found' // 404 (unpriced: deny)
  | 'preflight' // CORS preflight answered by the gateway
  | 'facilitator_unavailable'
  | 'upstream_error' // 502/504, nothing settled
  | 'upstream_down' // 503: the priced route's upstream is down, no payment asked or taken
  | 'upstream_status' // paid route, upstream >= 400 passed through unsettled
  | 'settlement_failed'
  | 'settlement_pending'
  | 'redeemed' // a settled, undelivered payment served again without settling
  | 'credited' // a new payment verified, not settled: served through the payer's credit
  | 'ledger_unavailable'
  | 'overloaded'
  | 'rate_limited' // 429: a rate limit (rate-limits.ts)
  | 'client_gone'
  | 'error';

export interface Authorization {
  readonly from: string;
  readonly value: bigint;
  readonly validBefore: number;
  readonly nonce: string;
}

export class RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly id: string;
  /** performance.now() at arrival, ms. */
  readonly startMs: number;
  path = '';
  search = '';
  matchKey = '';
  /** The host the client addressed (request-facts.ts), set by `route`; never the upstream's. */
  host = '';
  /** The scheme the client used, set by `route`. */
  proto: 'http' | 'https' = 'http';
  route: PricedRoute | undefined = undefined;
  /** The upstream (and path rewrite) this request goes to, set by `route`. */
  target: RouteTarget | undefined = undefined;
  /** True once the route asks for money: runs the paid-only stages. */
  paid = false;
  headerValue: string | undefined = undefined;
  payload: PaymentPayload | undefined = undefined;
  /** The decoded payload exactly as sent, forwarded to the facilitator. */
  rawPayload: unknown = undefined;
  offer: Offer | undefined = undefined;
  /** Body of /verify and /settle, built once (facilitator-request.ts). */
  facilitatorRequest: FacilitatorRequest | undefined = undefined;
  /** The facilitator that verified this payment: its settlement goes there (verify/failover.ts). */
  verifiedBy: FacilitatorMember | undefined = undefined;
  /** The facilitator its settle was sent to (undefined: none took it). */
  settledBy: FacilitatorMember | undefined = undefined;
  auth: Authorization | undefined = undefined;
  replayKey = '';
  /** Memo of digestOf(); '' until first asked. */
  digest = '';
  /** This request's hold on the payment, from its claim to its end (src/payment/). */
  payment: Payment | undefined = undefined;
  /**
   * A retry the book answers (stage `recall`): `settle` resumes an unknown settlement with the
   * recorded request; `redeem` serves a settled, undelivered payment again without settling.
   */
  recalled: (Recalled & { readonly mode: 'settle' | 'redeem' }) | undefined = undefined;
  /** The record this request holds in `deps.recordsInUse` (a resume or a redemption), released at its end. */
  heldRecord: string | undefined = undefined;
  /** The record this request holds in the shared store (pipeline/fleet-hold.ts), released at its end. */
  fleetHeld: string | undefined = undefined;
  /** The earlier settlement this request was served through (a credit): its new payment is not settled. */
  credit: Credit | undefined = undefined;
  upstream: UpstreamResponse | undefined = undefined;
  /** Buffered upstream body ("buffer then settle" routes). */
  bufferedBody: Buffer | undefined = undefined;
  settlementHeader: { readonly name: string; readonly value: string } | undefined = undefined;
  outcome: Outcome = 'pending';
  reason: string | undefined = undefined;
  payer: string | undefined = undefined;
  transaction: string | undefined = undefined;
  verifyMs = -1;
  upstreamMs = -1;
  settleMs = -1;
  clientGone = false;
  /** The client key holding an in-flight slot (client-shares.ts), '' until admit takes one. */
  clientKey = '';
  resourceUrlCache: string | undefined = undefined;

  /**
   * sha256 of the payment header and route (verifyDigest), computed on first use: only the verify
   * cache on a hit and a pending replay record compare it, so most requests never hash.
   */
  readonly digestOf = (): string => {
    if (this.digest === '')
      this.digest = verifyDigest(this.headerValue ?? '', this.route?.id ?? '');
    return this.digest;
  };

  constructor(req: IncomingMessage, res: ServerResponse, id: string, startMs: number) {
    this.req = req;
    this.res = res;
    this.id = id;
    this.startMs = startMs;
  }
}
