/**
 * Node/V8 flags the gateway is shipped with: the `bin/x402-gateway.js` shebang, `npm start`, the
 * Dockerfile's entrypoint and the benchmark's gateway contender all pass exactly these (a unit test
 * keeps them equal). They must be on the command line (or in NODE_OPTIONS): V8 sizes its heap when
 * the process starts, so setting them from inside is too late.
 *
 * --max-semi-space-size=32 (MiB; Node 20's default is 16): a paid request lives as long as two
 * facilitator round trips, so with a facilitator 20 ms away and 128 requests in flight every
 * scavenge of a 16 MiB young generation copied all their state, and pauses of several ms went
 * straight into everyone's latency. Measured with the bench's paid-v2-slow scenario at 128
 * connections (2 runs each): 2,254-2,329 req/s and 275-303 µs CPU per request with the default,
 * 2,630-2,677 req/s and 210-228 µs with 32 MiB (64 MiB gave no more). It costs memory only under
 * load, where the young generation grows into it: the 5-minute soak at ~23k req/s ran at ~160 MiB RSS
 * (peaks 211) against 82-111 MiB without it; idle with 1,000 open connections, 122 MiB.
 * To run without it, start `node dist/cli/main.js` directly.
 */
export const RUNTIME_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=32']);
