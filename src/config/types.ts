/**
 * The resolved, validated, frozen gateway configuration. `loadConfig` produces it from YAML;
 * nothing after start-up reads YAML, `process.env` or defaults again.
 */
import type { RouteSpec, SettleMode } from '../pricing/index.js';

/**
 * One resolved route: pricing's input, produced by config validation (pricing owns the shape;
 * config depends on pricing, never the other way).
 */
export type RouteConfig = RouteSpec;
export type { SettleMode };

export interface HostPort {
  readonly host: string;
  /** 0 = pick a free port (tests). */
  readonly port: number;
}

/** Server-side resource limits. */
export interface LimitsConfig {
  /** Max total request header bytes (node `maxHeaderSize`). Default 16384. */
  readonly maxHeaderBytes: number;
  /** Max request body bytes forwarded upstream; larger → 413. Default 10 MiB. */
  readonly maxBodyBytes: number;
  /**
   * Bytes of a refused request's body (402, 400, 404, 413, 503…) read and dropped before the
   * connection is closed. Default 65536.
   */
  readonly refusedBodyBytes: number;
  /** Max bytes of one payment header (base64) before decoding. Default 8192. */
  readonly maxPaymentHeaderBytes: number;
  /** Node `server.headersTimeout`, ms. Default 20000. */
  readonly headersTimeoutMs: number;
  /** Node `server.requestTimeout`, ms. Default 120000. */
  readonly requestTimeoutMs: number;
  /** Node `server.keepAliveTimeout`, ms. Default 5000. */
  readonly keepAliveTimeoutMs: number;
  /** Concurrent requests in the gateway; past it → 503 `overloaded`. Default 1024. */
  readonly maxInFlight: number;
  /** A request body that goes this long without a byte → 408 `body_timeout`, ms. Default 10000. */
  readonly bodyIdleTimeoutMs: number;
  /** A response the client stops reading for this long is cut, ms. Default 30000. */
  readonly writeIdleTimeoutMs: number;
  /** An upstream response body that stalls this long is cut, ms. Default 30000. */
  readonly upstreamBodyIdleTimeoutMs: number;
  /**
   * Share (0–1] of maxInFlight one client address may hold, as connections and as requests in
   * flight; past it → connection closed / 429 `client_share_exceeded`. Default 0.25.
   */
  readonly maxClientShare: number;
}

export interface ServerConfig {
  readonly listen: HostPort;
  readonly admin: HostPort;
  /** Base URL (no trailing slash) used for `resource`, or null to use the request's scheme + Host. */
  readonly publicUrl: string | null;
  /** Trust client-sent X-Forwarded-* (only behind a proxy you run). Default false. */
  readonly trustProxy: boolean;
  /**
   * CIDRs of the proxies in front of the gateway (needs trustProxy). Empty: the socket peer is the
   * one proxy hop. Otherwise only a listed peer's X-Forwarded-For is read, and listed hops skipped.
   */
  readonly trustedProxies: readonly string[];
  /**
   * Drop client headers whose name contains `_` before forwarding (nginx's default). Default true.
   * Off, a name with `_` still goes when it spells one the gateway drops or vouches for.
   */
  readonly dropUnderscoreHeaders: boolean;
  /** Graceful shutdown deadline, ms. Default 30000. */
  readonly shutdownTimeoutMs: number;
  /**
   * node:cluster workers serving the paid listener (`auto` resolved to one per CPU). Default 1:
   * no cluster. Above 1 needs the shared stores (`store.redis`, `ledger.postgres`) and a remote
   * facilitator (config/workers.ts).
   */
  readonly workers: number;
  /**
   * This instance's name on a shared (Postgres) ledger: the owner written on each record it moves
   * to settled, whose totals seed its revenue counter at start-up. Stable across restarts of the
   * instance, distinct between instances. null (default): `HOSTNAME:PORT` (config/instance.ts).
   */
  readonly instance: string | null;
  readonly limits: LimitsConfig;
}

export interface HttpFacilitatorConfig {
  readonly kind: 'http';
  /** Base URL without trailing slash. */
  readonly url: string;
  readonly verifyTimeoutMs: number;
  readonly settleTimeoutMs: number;
  /** Timeout of GET /supported, ms. */
  readonly supportedTimeoutMs: number;
  /** GET /supported is read again this often once it answered, ms. Default 60000. */
  readonly supportedRefreshMs: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Max sockets kept to the facilitator. Default 256. */
  readonly maxSockets: number;
  /**
   * Coinbase's facilitator (CDP): each call carries a JWT minted with this API key. With `cdp` and
   * no `url`, `url` is CDP's x402 base URL. Absent: no per-call auth.
   */
  readonly cdp?: CdpKeyConfig;
  /** Its label in metrics and logs (`facilitators:` lists); absent: its index in the list. */
  readonly name?: string;
  /** Consecutive facilitator faults (never a payer's refusal) that open its circuit. Default 5. */
  readonly breakerFailures: number;
  /** How long an open circuit stays open before one trial call, ms. Default 10000. */
  readonly breakerHalfOpenAfterMs: number;
}

/** A CDP API key (`facilitator.cdp`), as Coinbase issues it. */
export interface CdpKeyConfig {
  /** The API key id: the JWT's `sub` and `kid`. */
  readonly apiKeyId: string;
  /** SEC1 `EC PRIVATE KEY` PEM (ES256) or an Ed25519 key as 64 base64 bytes. Never logged. */
  readonly apiKeySecret: string;
}

/**
 * The built-in facilitator (`facilitator.local`): verifies and settles in-process on `rpcUrl` with
 * the settler key, no HTTP hop. `startGateway` builds it.
 */
export interface LocalFacilitatorConfig {
  readonly kind: 'local';
  /** JSON-RPC endpoint of the chain to settle on (normalised, no trailing slash). */
  readonly rpcUrl: string;
  /** Settler private key (0x + 64 hex). Pays the gas. Never logged. */
  readonly privateKey: string;
  /** Deadline of one verify, ms (same key as the HTTP kind). */
  readonly verifyTimeoutMs: number;
  /** Deadline of one settle, ms (same key as the HTTP kind). */
  readonly settleTimeoutMs: number;
  /** Period of the facilitator watcher's support re-read, ms (same key as the HTTP kind). */
  readonly supportedRefreshMs: number;
  /** Receipt wait after broadcast, ms; below settleTimeoutMs. Past it: settlement_pending + hash. */
  readonly receiptTimeoutMs: number;
  /** Receipt polling interval, ms. */
  readonly pollingIntervalMs: number;
}

/** Exactly one kind: `facilitator.url` (HTTP, the default) or `facilitator.local` (built-in). */
export type FacilitatorConfig = HttpFacilitatorConfig | LocalFacilitatorConfig;

export interface VerifyCacheConfig {
  /** Max entries. Default 10000. */
  readonly maxEntries: number;
  /** TTL of a negative (invalid) result, ms, further capped by validBefore. Default 60000. */
  readonly negativeTtlMs: number;
}

/**
 * The local signature check (verify/local-check.ts): while the recent verify-failure ratio,
 * gateway-wide or for one client address, is above `failureRatio`, a 65-byte signature that does
 * not recover to `from` is refused without a facilitator call when the chain says `from` has no code.
 */
export interface SignatureCheckConfig {
  /** Default true; it also needs the native secp256k1 binding (start-up says when it is missing). */
  readonly enabled: boolean;
  /** Checked while failures / verdicts in the window is above this, 0 ≤ ratio < 1. Default 0.5. */
  readonly failureRatio: number;
  /** Length of the sliding window, seconds. Default 60. */
  readonly windowSeconds: number;
  /** Verdicts a window (gateway-wide or one client's) needs before its ratio counts. Default 20. */
  readonly minVerdicts: number;
  /** Client addresses whose window is kept (least recently seen dropped). Default 10000. */
  readonly maxClients: number;
  /** `from` addresses whose code (or its absence) is remembered. Default 10000. */
  readonly codeCacheEntries: number;
  /** How long such an answer is believed, seconds (EIP-7702 can add code to an EOA). Default 300. */
  readonly codeCacheTtlSeconds: number;
}

export interface ReplayConfig {
  /** Kept claims outlive validBefore by this margin, seconds. Default 120. */
  readonly marginSeconds: number;
  /** Max claims held in memory; past it new claims are refused (fail closed). Default 1000000. */
  readonly maxEntries: number;
}

/** The shared store of replay claims (`store: { redis: { url } }`). */
export interface StoreConfig {
  /** Claims on a shared Redis, or null: in memory, per process (the default). */
  readonly redis: RedisStoreConfig | null;
}

export interface RedisStoreConfig {
  /** `redis://[user:password@]host:port[/db]`, `rediss://…` (TLS) or `unix:///path/to/redis.sock`. */
  readonly url: string;
  /** Prepended to every key, so several gateways' claims can share one Redis. Default `x402:replay:`. */
  readonly keyPrefix: string;
  /** Deadline of one Redis command, ms: past it a paid request answers 503. Default 150. */
  readonly commandTimeoutMs: number;
}

/**
 * The book of record (`ledger: { sqlite: { path } }`, the default, or `ledger: { postgres: { url } }`
 * for a fleet sharing one database), or `false` to run without one. Exactly one of `sqlite` and
 * `postgres` is set.
 */
export type LedgerConfig = LedgerSettings &
  (
    | {
        /** The SQLite file, absolute (a relative `path` is resolved against the config's folder). */
        readonly sqlite: { readonly path: string };
        readonly postgres?: undefined;
      }
    | {
        /** A Postgres database several gateways may share (`postgres://user:pw@host:port/db`). */
        readonly postgres: { readonly url: string };
        readonly sqlite?: undefined;
      }
  );

export interface LedgerSettings {
  /** Times a settled, undelivered payment may be served again without settling. Default 3. */
  readonly maxRedemptions: number;
  /** Seconds after its settlement during which such a payment may be redeemed. Default 3600. */
  readonly redeemWindowSeconds: number;
  /** Seconds between reconciliation passes over unresolved records. Default 30. */
  readonly reconcileIntervalSeconds: number;
  /** Blocks, the transfer's own included, before a settled payment is `confirmed`. Default 1. */
  readonly confirmations: number;
}

/**
 * Rate limits (`rateLimits`, pipeline/rate-limits.ts): per client address, 402 challenges per
 * second and failed payments per minute; per payer address, failures its own key caused. Past one
 * → 429 with Retry-After. Token buckets, bounded in memory; shared through `store.redis` when set.
 */
export interface RateLimitsConfig {
  /** Default true; false: no limit is checked and nothing is counted. */
  readonly enabled: boolean;
  readonly challengesPerSecond: {
    /** Sustained 402 challenges per second per client address. Default 100. */
    readonly perClient: number;
    /** Challenges a client address may take at once. Default 200. */
    readonly burst: number;
  };
  readonly failuresPerMinute: {
    /** Failed payment attempts per minute per client address (also the burst). Default 120. */
    readonly perClient: number;
    /** Failures the payer's key caused, per minute per payer address (also the burst). Default 60. */
    readonly perPayer: number;
  };
  /** Addresses remembered per limit; past it the least recently seen is forgotten. Default 100000. */
  readonly maxTrackedAddresses: number;
  /** With store.redis: ms between pushes of local counts to the fleet's. Default 1000. */
  readonly syncIntervalMs: number;
}

export interface LogConfig {
  readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

/** How an upstream's health is tracked (`upstreams.<name>.health`). */
export interface UpstreamHealthConfig {
  /** Failures in a row before the upstream is down. Default 3. */
  readonly failures: number;
  /** Count 5xx answers as failures. Default false. */
  readonly count5xx: boolean;
  /** Distinct client addresses a run of timeouts or 5xx must come from. Default 3. */
  readonly minClients: number;
  /** Retry-After of `upstream_down`, and the wait before a half-open probe, s. Default 10. */
  readonly retryAfterSeconds: number;
  /** Active check: GET this path (under the url's base path); absent: passive only. */
  readonly path?: string;
  /** Period of the active check, ms. Default 5000. */
  readonly intervalMs: number;
  /** Deadline of one active check or probe, ms. Default 2000. */
  readonly timeoutMs: number;
}

/** One named upstream (`upstreams.<name>`). */
export interface UpstreamConfig {
  /** Base URL (origin, optional base path, no trailing slash). */
  readonly url: string;
  /** Deadline for the response headers, ms; absent: `upstreamTimeoutMs`. */
  readonly timeoutMs?: number;
  /** Max connections (pool size). Default 1024. */
  readonly connections: number;
  /** https only: a CA (PEM text, read from the file named), verification, SNI name. */
  readonly tls?: {
    readonly ca?: string;
    readonly rejectUnauthorized: boolean;
    readonly servername?: string;
  };
  /** Added to every request, replacing a client's of the same name; lower-case names. Never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** Client headers never sent to this upstream; lower-case names. */
  readonly removeHeaders: readonly string[];
  readonly health: UpstreamHealthConfig;
}

export interface GatewayConfig {
  readonly server: ServerConfig;
  /**
   * The first facilitator of {@link facilitators} (all of it, for the `facilitator:` shorthand).
   * Deadlines that must hold whichever facilitator answers read {@link facilitatorDeadlines}.
   */
  readonly facilitator: FacilitatorConfig;
  /**
   * Every facilitator, in failover order (`facilitators:`, or `facilitator:` as a list of one).
   * A `local` one is always alone.
   */
  readonly facilitators: readonly FacilitatorConfig[];
  /**
   * The default upstream: a base URL (origin, optional base path, no trailing slash), run as the
   * upstream named `default`, or the name of an entry of `upstreams`.
   */
  readonly upstream: string;
  /** Named upstreams a route may choose (`upstream:` of a route). Empty by default. */
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
  readonly upstreamTimeoutMs: number;
  readonly unpriced: 'forward' | 'deny';
  readonly routes: readonly RouteConfig[];
  readonly verifyCache: VerifyCacheConfig;
  readonly signatureCheck: SignatureCheckConfig;
  readonly replay: ReplayConfig;
  /** Where replay claims live: in memory (default) or a shared Redis. */
  readonly store: StoreConfig;
  readonly log: LogConfig;
  /** Per-client and per-payer rate limits (429). */
  readonly rateLimits: RateLimitsConfig;
  /**
   * JSON-RPC URL per network, keyed by CAIP-2 (`eip155:8453`), to read the chain when a
   * facilitator's answer leaves a settlement unknown. Empty by default.
   */
  readonly rpcUrls: Readonly<Record<string, string>>;
  /** The book of record, or false (no durable record: a warning at start-up). */
  readonly ledger: LedgerConfig | false;
}

/** One thing wrong with a config file: where (key path and YAML line) and what. */
export interface ConfigProblem {
  /** Dotted key path, e.g. `routes.GET /v1/quote.price`; `''` for the document itself. */
  readonly path: string;
  /** 1-based YAML line, when known. */
  readonly line?: number;
  readonly message: string;
}

/** Outcome of loading a config: the frozen config, or every problem found (never just the first). */
export type ConfigResult =
  | { readonly ok: true; readonly config: GatewayConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };
