/**
 * Failover between facilitators (`facilitators:`, docs/operations.md "Facilitator failover").
 *
 * Each facilitator of the list has a circuit breaker (cockatiel) that counts only the
 * facilitator's own faults: a timeout, a refused or reset connection, a 5xx, a reply that does not
 * parse. A payer's refusal (`isValid: false`, a declined settlement) is an answer, never a fault.
 *
 * - Verify goes to the first facilitator whose circuit is closed and whose `/supported` lists the
 *   payment's (version, network); one that never answered `/supported` yet comes after those that
 *   list it. Verify has no side effect, so a fault moves on to the next within the phase's deadline.
 * - Settle goes to the facilitator that verified the payment. It moves on to the next one only
 *   when nothing was sent (the connection was refused before the request was written, the circuit
 *   is open): a settle that may have reached a facilitator (timeout, 5xx, garbage) has an unknown
 *   outcome, which the ledger's reconciliation owns; sending it to another facilitator could only
 *   race the first one's broadcast.
 * - A resumed settlement (its first outcome was unknown) goes to the facilitator that had it, and
 *   only there.
 *
 * A half-open circuit lets one trial call through; other calls skip that facilitator meanwhile
 * rather than wait for the trial (cockatiel would make them wait).
 */
import type { Logger } from 'pino';
import {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  handleWhenResult,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { FacilitatorMetrics, FailoverCause } from '../metrics/index.js';
import type { SettleResponse, VerifyResponse } from '../x402/index.js';
import { notSentResult } from './facilitator.js';
import type { FacilitatorVerdicts } from './readiness.js';
import type { FacilitatorClient, FacilitatorRequest, FacilitatorResult } from './types.js';

/** One facilitator of the list, as the pool is given it. */
export interface MemberOptions {
  /** Its label in metrics and logs: a configured name or its index, never its URL. */
  readonly label: string;
  readonly client: FacilitatorClient;
  readonly verifyTimeoutMs: number;
  readonly settleTimeoutMs: number;
  /** Consecutive faults that open its circuit. */
  readonly breakerFailures: number;
  /** How long the circuit stays open before one trial call, ms. */
  readonly breakerHalfOpenAfterMs: number;
  /**
   * Whether its last `/supported` lists `exact` on this network (v1 name or CAIP-2 per version);
   * undefined while it never answered.
   */
  lists(x402Version: number, network: string): boolean | undefined;
  /** Its `/supported` watcher's ear for verdicts that are not the payer's (readiness.ts). */
  readonly verdicts: FacilitatorVerdicts;
  /** Read `/supported` again soon (rate-limited): a network nobody listed was asked for. */
  readonly recheck?: () => void;
}

/** A facilitator of the list at run time: its client and its circuit. */
export class Member {
  readonly breaker: CircuitBreakerPolicy;

  constructor(readonly options: MemberOptions) {
    this.breaker = circuitBreaker(handleWhenResult(isFault), {
      halfOpenAfter: options.breakerHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breakerFailures),
    });
  }

  get label(): string {
    return this.options.label;
  }

  get client(): FacilitatorClient {
    return this.options.client;
  }
}

/** A facilitator's own fault (never the payer's refusal, which comes back `ok`). */
function isFault(result: unknown): boolean {
  return (result as FacilitatorResult<unknown>).kind === 'unavailable';
}

/** A call's answer and the facilitator that gave it (undefined: none was asked). */
export interface Routed<T> {
  readonly result: FacilitatorResult<T>;
  readonly by: Member | undefined;
  /** Every facilitator that answered `/supported` leaves this network out: none was asked. */
  readonly unsupported?: true;
}

/** What a settle is sent to. */
export interface SettleRoute {
  /** The facilitator that verified this payment, or that had its unknown settlement. */
  readonly via: Member | undefined;
  /** Only `via`, never another (a resumed settlement: its first outcome is unknown). */
  readonly pinned: boolean;
}

/** A failover attempt with less time left than this is not sent. */
const MIN_ATTEMPT_MS = 100;

/** Settlements left unknown remembered with their facilitator, at most (oldest dropped). */
const MAX_HOLDERS = 100_000;

export class FacilitatorPool {
  readonly members: readonly Member[];
  /** The longest verify deadline of the list: the verify phase's bound, failover included. */
  readonly verifyTimeoutMs: number;
  /** The longest settle deadline of the list: the settle phase's bound. */
  readonly settleTimeoutMs: number;
  /** Replay key → the facilitator that has its unknown settlement (a resume goes there). */
  readonly #holders = new Map<string, Member>();

  constructor(
    members: readonly MemberOptions[],
    private readonly metrics: FacilitatorMetrics,
    private readonly log: Logger,
  ) {
    if (members.length === 0) throw new Error('a facilitator pool needs a facilitator');
    this.members = members.map((m) => new Member(m));
    this.verifyTimeoutMs = Math.max(...members.map((m) => m.verifyTimeoutMs));
    this.settleTimeoutMs = Math.max(...members.map((m) => m.settleTimeoutMs));
    metrics.use(this.members.map((m) => m.label));
    for (const member of this.members) {
      member.breaker.onStateChange((state) => {
        const name =
          state === CircuitState.Closed
            ? 'closed'
            : state === CircuitState.HalfOpen
              ? 'half_open'
              : 'open';
        metrics.breaker(member.label, name);
        const line = { facilitator: member.label, circuit: name };
        if (name === 'open') log.warn(line, 'facilitator circuit open: calls go to the next one');
        else log.info(line, `facilitator circuit ${name.replace('_', '-')}`);
      });
    }
  }

  /**
   * False only when every facilitator has answered `/supported` and none lists any of these
   * networks (in either protocol version): nobody could take a payment there, so asking for one
   * is pointless (503 instead of 402). Unknown answers count as maybe.
   */
  servesAny(
    offers: readonly { readonly network: { readonly caip2: string; readonly v1Name: string } }[],
  ): boolean {
    for (const member of this.members) {
      for (const { network } of offers) {
        if (member.options.lists(2, network.caip2) !== false) return true;
        if (member.options.lists(1, network.v1Name) !== false) return true;
      }
    }
    return offers.length === 0;
  }

  /** The member labelled `label`, if the list (still) has one. */
  find(label: string): Member | undefined {
    return this.members.find((m) => m.label === label);
  }

  /**
   * POST /verify to the first facilitator that can take it; on a fault, the next, while the
   * phase's deadline ({@link verifyTimeoutMs} from now) leaves time.
   */
  async verify(
    request: FacilitatorRequest,
    x402Version: number,
    network: string,
  ): Promise<Routed<VerifyResponse>> {
    const members = this.members;
    if (members.length === 1) {
      // One facilitator: no choice to make, so it is asked even for a network its last
      // `/supported` left out (its own refusal answers, and a stale answer heals at once).
      return this.#verifyAt(members[0]!, request, performance.now() + this.verifyTimeoutMs);
    }
    const deadline = performance.now() + this.verifyTimeoutMs;
    let last: Routed<VerifyResponse> | undefined;
    let skipped: FailoverCause | undefined;
    let candidates = 0;
    for (const listed of ORDER) {
      for (const member of members) {
        const lists = member.options.lists(x402Version, network);
        if (listed ? lists !== true : lists !== undefined) continue;
        candidates++;
        if (deadline - performance.now() < MIN_ATTEMPT_MS) break;
        if (member.breaker.state === CircuitState.HalfOpen) {
          skipped ??= 'circuit_open';
          continue;
        }
        if (skipped !== undefined) this.metrics.failover('verify', skipped);
        const routed = await this.#verifyAt(member, request, deadline);
        if (routed.result.kind === 'ok') return routed;
        last = routed;
        skipped =
          routed.by === undefined ? 'circuit_open' : routed.result.notSent ? 'not_sent' : 'fault';
      }
    }
    if (candidates === 0) {
      // Perhaps a stale answer: every watcher reads `/supported` again soon.
      for (const member of members) member.options.recheck?.();
      return {
        result: notSentResult('network', `verify: no facilitator lists ${network}`),
        by: undefined,
        unsupported: true,
      };
    }
    return (
      last ?? {
        result: notSentResult('network', 'verify: every facilitator circuit is open'),
        by: undefined,
      }
    );
  }

  async #verifyAt(
    member: Member,
    request: FacilitatorRequest,
    deadline: number,
  ): Promise<Routed<VerifyResponse>> {
    const timeoutMs = Math.max(1, Math.floor(deadline - performance.now()));
    try {
      const result = await member.breaker.execute(() =>
        member.client.verify(request, { timeoutMs }),
      );
      return { result, by: member };
    } catch (err) {
      if (!(err instanceof BrokenCircuitError)) throw err;
      return {
        result: notSentResult('network', `verify: ${member.label}: circuit open`),
        by: undefined,
      };
    }
  }

  /**
   * POST /settle to `route.via` (else the first that can take it), and to the next one only when
   * nothing was sent. `timeoutMs` bounds this call (what the settle phase has left).
   */
  async settle(
    request: FacilitatorRequest,
    x402Version: number,
    network: string,
    route: SettleRoute,
    timeoutMs: number,
    /** Set to the facilitator a settle request is sent to, as it is sent (the caller may stop waiting). */
    sent?: { member: Member | undefined },
  ): Promise<Routed<SettleResponse>> {
    const deadline = performance.now() + timeoutMs;
    const { via, pinned } = route;
    let last: Routed<SettleResponse> | undefined;
    let skipped: FailoverCause | undefined;
    if (via !== undefined) {
      // The common case: the facilitator that verified takes it (no loop, no failover).
      const routed = await this.#settleAt(via, request, deadline, sent);
      if (routed !== undefined && (routed.result.kind === 'ok' || !routed.result.notSent)) {
        return routed;
      }
      last = routed;
      skipped = routed === undefined ? 'circuit_open' : 'not_sent';
      if (pinned) {
        return (
          last ?? {
            result: notSentResult('network', `settle: ${via.label}: circuit open, nothing sent`),
            by: undefined,
          }
        );
      }
    }
    const single = this.members.length === 1;
    for (const listed of ORDER) {
      for (const member of this.members) {
        if (member === via) continue;
        const lists = single ? listed : member.options.lists(x402Version, network);
        if (listed ? lists !== true : lists !== undefined) continue;
        if (skipped !== undefined) this.metrics.failover('settle', skipped);
        const routed = await this.#settleAt(member, request, deadline, sent);
        // Anything that may have reached the facilitator ends here: its outcome is that one's.
        if (routed !== undefined && (routed.result.kind === 'ok' || !routed.result.notSent)) {
          return routed;
        }
        if (routed !== undefined) last = routed;
        skipped = routed === undefined ? 'circuit_open' : 'not_sent';
      }
    }
    return (
      last ?? {
        result: notSentResult('network', 'settle: no facilitator could be reached, nothing sent'),
        by: undefined,
      }
    );
  }

  /** One settle call through `member`'s circuit; undefined when its circuit let nothing through. */
  async #settleAt(
    member: Member,
    request: FacilitatorRequest,
    deadline: number,
    sent: { member: Member | undefined } | undefined,
  ): Promise<Routed<SettleResponse> | undefined> {
    // A half-open circuit's trial is in flight: cockatiel would make this call wait for it.
    if (member.breaker.state === CircuitState.HalfOpen) return undefined;
    const timeoutMs = Math.floor(deadline - performance.now());
    if (timeoutMs < 1) return undefined;
    const before = sent?.member;
    if (sent !== undefined) sent.member = member;
    try {
      const result = await member.breaker.execute(() =>
        member.client.settle(request, { timeoutMs }),
      );
      return { result, by: member };
    } catch (err) {
      if (!(err instanceof BrokenCircuitError)) throw err;
      // Open: nothing went to it.
      if (sent !== undefined) sent.member = before;
      return undefined;
    }
  }

  /** `member` holds the unknown settlement of `key`: a resume goes there (and only there). */
  holdUnknown(key: string, member: Member): void {
    this.#holders.delete(key);
    if (this.#holders.size >= MAX_HOLDERS) {
      const oldest = this.#holders.keys().next().value;
      if (oldest !== undefined) this.#holders.delete(oldest);
    }
    this.#holders.set(key, member);
  }

  /** The facilitator that had `key`'s unknown settlement, if this process remembers it. */
  holder(key: string): Member | undefined {
    return this.#holders.get(key);
  }

  /** `key` is decided (settled, declined, failed): forget its holder. */
  forget(key: string): void {
    if (this.#holders.size !== 0) this.#holders.delete(key);
  }

  /** Carry remembered holders over to a new pool (a reload), by label. */
  adoptHolders(old: FacilitatorPool): void {
    for (const [key, member] of old.#holders) {
      const same = this.find(member.label);
      if (same !== undefined) this.#holders.set(key, same);
      else
        this.log.warn(
          { key, facilitator: member.label },
          'reload dropped the facilitator holding an unknown settlement',
        );
    }
  }
}

/** Facilitators that list the network first, then those that never answered `/supported`. */
const ORDER = [true, false] as const;

/** The prefix of a ledger detail naming the facilitator a settlement went to. */
export function viaDetail(member: Member | undefined, detail: string): string {
  return member === undefined ? detail : `facilitator ${member.label}: ${detail}`;
}

/** The facilitator label a ledger detail written by {@link viaDetail} names, if any. */
export function labelInDetail(detail: string | undefined): string | undefined {
  if (detail === undefined) return undefined;
  const match = /^facilitator ([A-Za-z0-9_-]{1,32}): /.exec(detail);
  return match?.[1];
}
