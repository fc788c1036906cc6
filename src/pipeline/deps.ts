/**
 * Everything a stage may use, built once by the composition root (gateway.ts) from frozen config.
 * Stages never read globals or process.env.
 */
import type { Logger } from 'pino';
import type { ChainReader } from '../chains/index.js';
import type { AccessLog } from '../log/index.js';
import type { GatewayConfig } from '../config/index.js';
import type { LedgerStore } from '../ledger/index.js';
import type { GatewayMetrics } from '../metrics/index.js';
import type { CreditIndex, RecallIndex, RecordsInUse } from '../payment/index.js';
import type { PriceTable, PricedRoute } from '../pricing/index.js';
import type {
  FacilitatorClient,
  FacilitatorPool,
  LocalSignatureCheck,
  ReplayGuard,
  VerifyCache,
} from '../verify/index.js';
import type { Challenge } from '../x402/index.js';
import type { ClientShares } from './client-shares.js';
import type { RateLimits } from './rate-limits.js';
import type { UpstreamSet } from './upstreams.js';

export interface InFlight {
  count: number;
}

export interface Deps {
  readonly config: GatewayConfig;
  readonly prices: PriceTable;
  /** Precomputed 402 challenge of every priced route. */
  readonly challenges: ReadonlyMap<PricedRoute, Challenge>;
  /** The first facilitator's client (the only one for `facilitator:` or `local`). */
  readonly facilitator: FacilitatorClient;
  /** Every facilitator, with failover between them (verify/failover.ts): what the stages call. */
  readonly facilitators: FacilitatorPool;
  /** A chain reader per network (CAIP-2) that has an RPC: `rpcUrls`, or the built-in facilitator's. */
  readonly chains: ReadonlyMap<string, ChainReader>;
  readonly replay: ReplayGuard;
  /** The book of record; undefined with `ledger: false`. */
  readonly ledger: LedgerStore | undefined;
  /** Nonces whose retry the book answers (unknown settlements, settled and undelivered). */
  readonly recallIndex: RecallIndex;
  /** Records a request is answering now (resume, redemption, credit): one at a time each. */
  readonly recordsInUse: RecordsInUse;
  /** Settled, undelivered payments owed a response, per payer, route and price; undefined without a book. */
  readonly credits: CreditIndex | undefined;
  /**
   * The chain's word on one unknown record now (the reconciler's visit); undefined without a book.
   * A payer's unknown settlement may have landed: it is looked up before their new payment settles.
   */
  readonly resolveUnknown: ((key: string) => Promise<unknown>) | undefined;
  readonly verifyCache: VerifyCache;
  /**
   * Refuses forged signatures without a facilitator call while verify failures run high
   * (verify/local-check.ts); optional for tests.
   */
  readonly signatureCheck?: LocalSignatureCheck;
  /** The upstreams and each route's target (upstreams.ts). */
  readonly upstreams: UpstreamSet;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** One line per request, to the same destination as `log`. */
  readonly accessLog: AccessLog;
  readonly inFlight: InFlight;
  /** Per-client-address shares of connections and in-flight slots (client-shares.ts). */
  readonly clients: ClientShares;
  /** Challenges and failed payments per client and payer address (rate-limits.ts); optional for tests. */
  readonly rateLimits?: RateLimits;
  /**
   * Seconds that must remain before validBefore: verify + upstream + settle timeouts + 6 s chain
   * buffer, for the default upstream (each upstream has its own: Upstream.minRemainingSec).
   */
  readonly minRemainingSec: number;
  /** Unix time in seconds (injectable for tests). */
  readonly nowSec: () => number;
}
