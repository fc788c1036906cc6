/**
 * Contracts of the verification side: the facilitator client, the replay guard and the verify cache.
 * Expected outcomes are values (discriminated unions); implementations throw only for bugs.
 */
import type {
  PaymentRequirementsV1,
  PaymentRequirementsV2,
  SettleResponse,
  SupportedKind,
  VerifyResponse,
} from '../x402/index.js';

/** Body of POST /verify and POST /settle (identical for both). */
export type FacilitatorRequest =
  | {
      readonly x402Version: 1;
      /** The payload exactly as the client sent it (decoded JSON). */
      readonly paymentPayload: unknown;
      /** The gateway's own requirement, never the client's copy. */
      readonly paymentRequirements: PaymentRequirementsV1;
    }
  | {
      readonly x402Version: 2;
      readonly paymentPayload: unknown;
      readonly paymentRequirements: PaymentRequirementsV2;
    };

/** Why a facilitator call did not produce a usable answer. */
export type FacilitatorFailure =
  | 'timeout' // deadline passed (the request may have been received)
  | 'network' // connect refused/reset before an answer
  | 'http_error' // non-2xx without a structured body (5xx, 4xx html, …)
  | 'bad_response'; // 2xx with a body that does not parse against the schema

export type FacilitatorResult<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly status: number }
  | {
      readonly kind: 'unavailable';
      readonly failure: FacilitatorFailure;
      /** Short human detail (compacted excerpt, never a whole body). */
      readonly detail: string;
      readonly status?: number;
      /**
       * True when the request surely never left (no connection, its circuit open, its headers
       * could not be made): another facilitator may be asked instead, even to settle.
       */
      readonly notSent?: true;
    };

export interface SupportedResponse {
  readonly kinds: readonly SupportedKind[];
}

export interface SettleOptions {
  /** Deadline of this call, ms; the implementation's own deadline applies when it is shorter. */
  readonly timeoutMs?: number;
}

/**
 * A facilitator: the HTTP client of a remote one, or the built-in one.
 * A structured negative answer (`isValid:false`, `success:false`) is `ok`, whatever the HTTP status
 * (CDP sends `settlement_pending` with HTTP 500).
 */
export interface FacilitatorClient {
  /** `options.timeoutMs` may shorten this call's deadline (what a failover leaves of the phase). */
  verify(
    request: FacilitatorRequest,
    options?: SettleOptions,
  ): Promise<FacilitatorResult<VerifyResponse>>;
  /**
   * `options.timeoutMs` may shorten (never lengthen) this call's deadline: the settle phase as a
   * whole is bounded, so a retry only gets what is left. An implementation may ignore it; the
   * caller bounds its wait anyway.
   */
  settle(
    request: FacilitatorRequest,
    options?: SettleOptions,
  ): Promise<FacilitatorResult<SettleResponse>>;
  supported(): Promise<FacilitatorResult<SupportedResponse>>;
  /** Release sockets/timers. */
  close(): Promise<void>;
}

/** Outcome of an atomic claim on an authorization `(chainId, asset, from, nonce)`. */
export type ClaimOutcome =
  /** Fresh claim: this request owns the authorization until it releases, marks pending or settles. */
  | { readonly kind: 'claimed' }
  /**
   * The same payload (same digest) whose settlement is unknown: this request takes it over to settle
   * again. It must not be released on failure (money may have moved): return it to pending instead.
   */
  | { readonly kind: 'resumed'; readonly transaction: string | undefined }
  /**
   * Another request holds it right now, or it settled, or a different payload claims it. `spent`
   * (a shared store only): it settled and no request anywhere is serving it, so the book may still
   * owe this retry a response (a settlement another instance resolved, never delivered whole).
   */
  | { readonly kind: 'used'; readonly spent?: boolean }
  /** The store is full or unreachable: refuse (fail closed). */
  | { readonly kind: 'unavailable' };

/**
 * A value, or a promise of it. The replay guard answers with plain values when its store is in
 * memory, so the hot path awaits nothing there (each await costs a promise and a microtask); a
 * networked store (Redis) answers with promises. Callers handle both.
 */
export type Awaitable<T> = T | Promise<T>;

export interface ReplayGuard {
  /**
   * Atomically claim `key`. `digest` gives the payload's digest; it is called only when the key is
   * pending, to tell the same payload (resume) from another one (used), so the common path never
   * hashes. `expiresAtMs` (validBefore + margin) bounds how long a settled or pending record is kept.
   */
  claim(key: string, digest: () => string, expiresAtMs: number): Awaitable<ClaimOutcome>;
  /** Money surely did not move: forget the claim so the same signature can be used again. */
  release(key: string): Awaitable<void>;
  /** Settlement outcome unknown: keep the record, let the same payload (`digest`) resume it. */
  markPending(key: string, transaction: string | undefined, digest: string): Awaitable<void>;
  /**
   * Settled: keep the record until its expiry; every later claim is `used`. `serving`: this
   * request goes on to serve the response, and a shared store keeps it held until `served`.
   */
  markSettled(key: string, transaction: string, serving?: boolean): Awaitable<void>;
  /**
   * A shared store only: hold a settled record for one response served again (a redemption, a
   * credit), fleet-wide; `busy` while another request anywhere serves or settles it. Absent on a
   * single-process guard: the process's own RecordsInUse is the whole story there.
   */
  hold?(key: string, expiresAtMs: number): Awaitable<'held' | 'busy' | 'unavailable'>;
  /**
   * A shared store only: the response of a record this guard serves (settled by it with
   * `serving`, or held) has ended and the book's writes about it are durable: release it. `whole`:
   * the response went out whole, so the book says delivered and no retry is owed anything: the
   * store is not told (its serve lease lapses by itself; a copy meanwhile is `used`, the answer a
   * delivered payment gets anyway), which saves the paid path a round trip.
   */
  served?(key: string, whole?: boolean): Awaitable<void>;
  /**
   * A settle request for this claim is about to leave. A shared store records it (a takeover after
   * this holder's lease lapsed then resumes the settlement, never settles afresh) and answers false
   * when this guard no longer holds the claim (taken over) or cannot tell: then nothing may be
   * sent. Absent on a single-process guard, whose claims nobody else can take over.
   */
  settling?(key: string): Awaitable<boolean>;
  /** Number of records held (for metrics/tests). */
  size(): number;
}

/**
 * Cached verify outcomes, one positive and one negative per authorization key (separate slots: a
 * refused forgery never displaces an honest verdict), each tied to the digest of the exact payload
 * it was given for.
 */
export interface VerifyCache {
  /**
   * The outcome cached under `key` when it was given for this very payload. `digest` is called only
   * when `key` has an entry, so a miss (the common case) never hashes the payload.
   */
  get(key: string, digest: () => string): VerifyResponse | undefined;
  /**
   * Store an outcome. Positive entries live until `validBeforeSec`; negative ones for at most the
   * configured negative TTL and never past `validBeforeSec`.
   */
  set(key: string, digest: string, outcome: VerifyResponse, validBeforeSec: number): void;
  delete(key: string): void;
}
