/**
 * Every config default in one place, each with its unit. gateway.example.yaml documents the same
 * values; the schemas (schema.ts, facilitator.ts) and route resolution (routes.ts) read them from
 * here.
 */
export const DEFAULTS = Object.freeze({
  server: Object.freeze({
    listen: '0.0.0.0:8402', // host:port of the paid API listener
    admin: '127.0.0.1:9402', // host:port of /metrics, /healthz, /readyz (loopback only by default)
    publicUrl: null, // base URL for `resource`; null = request scheme + Host
    trustProxy: false, // trust client X-Forwarded-* headers
    // CIDRs of proxies in front of us; [] with trustProxy = the socket peer is the one proxy
    trustedProxies: Object.freeze([]),
    shutdownTimeoutMs: 30_000, // ms to drain connections on shutdown
    dropUnderscoreHeaders: true, // drop client headers with `_` in the name (nginx's default)
    workers: 1, // node:cluster workers serving the paid listener; 'auto' = one per CPU
    // This instance's name on a shared (Postgres) ledger: the owner of the revenue it counts.
    // null = `HOSTNAME:PORT` (os.hostname() and server.listen's port).
    instance: null,
    limits: Object.freeze({
      maxHeaderBytes: 16_384, // bytes, all request headers together
      maxBodyBytes: 10_485_760, // bytes (10 MiB), request body forwarded upstream
      refusedBodyBytes: 65_536, // bytes of a refused request's body read before closing its connection
      maxPaymentHeaderBytes: 8_192, // bytes, one payment header before base64 decoding
      headersTimeoutMs: 20_000, // ms to receive the request headers
      requestTimeoutMs: 120_000, // ms to receive the whole request
      keepAliveTimeoutMs: 5_000, // ms an idle keep-alive connection stays open
      maxInFlight: 1_024, // concurrent requests; past it → 503
      bodyIdleTimeoutMs: 10_000, // ms a request body may go without a byte arriving → 408
      writeIdleTimeoutMs: 30_000, // ms a response may go without the client reading a byte
      upstreamBodyIdleTimeoutMs: 30_000, // ms an upstream response body may go without a byte
      maxClientShare: 0.25, // share of maxInFlight one client address may hold (connections, requests)
    }),
  }),
  facilitator: Object.freeze({
    url: 'https://x402.org/facilitator', // public testnet facilitator (Base Sepolia only)
    verifyTimeoutMs: 5_000, // ms, POST /verify deadline
    settleTimeoutMs: 15_000, // ms, POST /settle deadline
    supportedTimeoutMs: 5_000, // ms, GET /supported deadline
    supportedRefreshMs: 60_000, // ms between GET /supported re-reads once it has answered
    maxSockets: 256, // sockets kept open to the facilitator
    breakerFailures: 5, // facilitator faults in a row (timeouts, refused connections, 5xx) that open its circuit
    breakerHalfOpenAfterMs: 10_000, // ms an open circuit waits before one trial call
    // static headers sent with every call
    headers: Object.freeze({}) as Readonly<Record<string, string>>,
    // the built-in facilitator (`facilitator.local`); rpcUrl and privateKey have no default
    local: Object.freeze({
      receiptTimeoutMs: 10_000, // ms to wait for a settlement's receipt; must be < settleTimeoutMs
      pollingIntervalMs: 500, // ms between receipt polls (Base: a block every 2 s)
    }),
  }),
  payment: Object.freeze({
    network: 'base-sepolia', // testnet unless told otherwise
    maxTimeoutSeconds: 120, // s, how long a client's signed payment stays valid
  }),
  upstreamTimeoutMs: 30_000, // ms until the upstream's response headers
  // each entry of `upstreams:` (the default `upstream:` URL runs with these too)
  upstreams: Object.freeze({
    connections: 1_024, // connections kept to the upstream (its pool size)
    tls: Object.freeze({ rejectUnauthorized: true }), // https: refuse a certificate the CA does not sign
    health: Object.freeze({
      failures: 3, // failures in a row (connect, timeout; 5xx if count5xx) before "down"
      count5xx: false, // count 5xx answers as failures too
      minClients: 3, // distinct client addresses a timeout/5xx run needs before it counts
      retryAfterSeconds: 10, // s: Retry-After of a 503 upstream_down, and the half-open probe delay
      intervalMs: 5_000, // ms between active checks (only with `path`)
      timeoutMs: 2_000, // ms an active check or the half-open probe may take
    }),
  }),
  unpriced: 'deny', // paths no route prices: 404, or forward free
  verifyCache: Object.freeze({
    maxEntries: 10_000, // entries
    negativeTtlMs: 60_000, // ms an invalid verdict is cached (also capped by validBefore)
  }),
  signatureCheck: Object.freeze({
    enabled: true, // refuse forged signatures locally while verify failures run high
    failureRatio: 0.5, // checked while failures / verdicts in the window is above this
    windowSeconds: 60, // s, sliding window of verify verdicts
    minVerdicts: 20, // verdicts a window needs before its ratio counts
    maxClients: 10_000, // client addresses whose window is kept
    codeCacheEntries: 10_000, // `from` addresses whose code (or none) is remembered
    codeCacheTtlSeconds: 300, // s such an answer is believed
  }),
  replay: Object.freeze({
    marginSeconds: 120, // s a used nonce is remembered past its validBefore
    maxEntries: 1_000_000, // claims held in memory; past it new claims are refused
  }),
  store: Object.freeze({
    redis: null, // claims in memory, per process; { url } puts them on a shared Redis
    keyPrefix: 'x402:replay:', // prepended to every Redis key
    commandTimeoutMs: 150, // ms a Redis command may take before a paid request answers 503
  }),
  log: Object.freeze({ level: 'info' as const }),
  rateLimits: Object.freeze({
    enabled: true, // 429 past the limits below; false turns every one of them off
    challengesPerSecond: Object.freeze({
      perClient: 100, // 402 challenges (requests without a payment) per second, per client address
      burst: 200, // challenges a client address may take at once before the rate applies
    }),
    failuresPerMinute: Object.freeze({
      perClient: 120, // failed payment attempts per minute, per client address
      perPayer: 60, // failures a payer's own key caused, per minute, per payer address
    }),
    maxTrackedAddresses: 100_000, // addresses remembered per limit; the least recently seen go first
    syncIntervalMs: 1_000, // ms between pushes of local counts to store.redis (when configured)
  }),
  ledger: Object.freeze({
    path: 'x402-ledger.sqlite', // the SQLite book of record, relative to the config file's folder
    maxRedemptions: 3, // times a settled, undelivered payment may be served again without paying
    redeemWindowSeconds: 3_600, // s after settlement during which it may be
    reconcileIntervalSeconds: 30, // s between passes of the reconciler over unresolved records
    confirmations: 1, // blocks (the transfer's own included) before a settled payment is confirmed
  }),
  route: Object.freeze({
    description: '', // text shown to clients in the 402 challenge
    mimeType: '', // the resource's MIME type in the 402 challenge; '' = unspecified
    settleMode: 'headers' as const, // settle once upstream headers arrive, then stream the body
    maxBufferBytes: 1_048_576, // bytes (1 MiB), cap of settle mode "buffer"
  }),
});

/**
 * Coinbase's x402 facilitator: `facilitator.url` when `facilitator.cdp` is given without one (the
 * plain default stays DEFAULTS.facilitator.url).
 */
export const CDP_FACILITATOR_URL = 'https://api.cdp.coinbase.com/platform/v2/x402';
