/**
 * The rate limits under millions of distinct client addresses: memory stays at the tables' fixed
 * size, and what a check costs on each path.
 * Run: node --expose-gc --import tsx bench/micro/rate-limits.ts [millions of addresses, default 3]
 *
 * - memory: heap and RSS before the limiter exists, after it is built (the tables are allocated at
 *   their full size up front), and after N million distinct addresses took a challenge and failed
 *   a payment (the challenge and client-failure tables full, evicting) and N/4 million payers
 *   failed;
 * - ns per check: a challenge from a new address (insert + eviction), a challenge from a known one,
 *   and the paid hot path's two checks for a client and payer that never failed (two misses).
 *   Key strings are built outside the timed loops. A plain Map.get is measured as the baseline:
 *   on a busy machine every figure moves with it.
 *
 * Measured 2026-12-05 (Node 20.20, 2 shared vCPUs, load average 7–9 from other jobs), 3 million
 * addresses: 100 032 tracked per limit; heap +2.3 MB built, +35.4 MB full (≈ 120 B an address);
 * RSS 130 → 201 MB (V8 keeps the freed key strings' pages); ns per check: new address 2 300–3 200,
 * known 1 100–2 600, paid path's two misses 1 900–3 100, baseline Map.get 220. A quieter probe
 * of the same calls (100 000 keys, same machine) gave per check: Map.get miss 330–390, clientWait
 * miss 260, payerWait miss 380, challenge of a known address 450–1 100.
 */
import { DEFAULTS } from '../../src/config/index.js';
import { RateLimits } from '../../src/pipeline/rate-limits.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const millions = Number(process.argv[2] ?? 3);
const N = Math.round(millions * 1_000_000);
const BATCH = 100_000;

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
function memory(): { heap: number; rss: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

/** The i-th distinct address: IPv4 for even i, an IPv6 /64 key for odd i. */
function address(i: number): string {
  return i % 2 === 0
    ? `${(i >>> 24) & 255}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`
    : `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
}
const payer = (i: number): string => `0x${i.toString(16).padStart(40, '0')}`;

const base = memory();
const limits = new RateLimits(DEFAULTS.rateLimits);
const built = memory();

let newNs = 0;
for (let start = 0; start < N; start += BATCH) {
  const keys = Array.from({ length: Math.min(BATCH, N - start) }, (_, j) => address(start + j));
  const t0 = process.hrtime.bigint();
  for (const key of keys) limits.challenge(key);
  newNs += Number(process.hrtime.bigint() - t0);
  for (const key of keys) limits.clientFailed(key);
}
for (let start = 0; start < N / 4; start += BATCH) {
  for (let j = 0; j < BATCH; j++) limits.payerFailed(payer(start + j));
}
const full = memory();

// A known address: the last BATCH addresses are still in the table.
const known = Array.from({ length: BATCH }, (_, j) => address(N - BATCH + j));
let t0 = process.hrtime.bigint();
for (let r = 0; r < 10; r++) for (const key of known) limits.challenge(key);
const knownNs = Number(process.hrtime.bigint() - t0) / (10 * BATCH);

// The paid hot path: a client and a payer that never failed (both lookups miss).
const honest = Array.from({ length: BATCH }, (_, j) => address(N + 1_000_000 + j));
const honestPayers = Array.from({ length: BATCH }, (_, j) => payer(N + 1_000_000 + j));
t0 = process.hrtime.bigint();
for (let r = 0; r < 10; r++) {
  for (let j = 0; j < BATCH; j++) {
    limits.clientWait(honest[j]!);
    limits.payerWait(honestPayers[j]!);
  }
}
const paidNs = Number(process.hrtime.bigint() - t0) / (10 * BATCH);

// Baseline on this machine now: one Map.get on a Map of the same size (the floor of any lookup).
const plain = new Map(known.map((k, i) => [k, i]));
let sink = 0;
t0 = process.hrtime.bigint();
for (let r = 0; r < 10; r++) for (const key of honest) sink += plain.get(key) ?? 1;
const mapNs = Number(process.hrtime.bigint() - t0) / (10 * BATCH);

console.log(
  [
    `${N.toLocaleString('en')} distinct client addresses, ${(N / 4).toLocaleString('en')} distinct payers; maxTrackedAddresses ${DEFAULTS.rateLimits.maxTrackedAddresses.toLocaleString('en')} per limit`,
    `tracked: challenges ${limits.tracked('challenges')}, client_failures ${limits.tracked('client_failures')}, payer_failures ${limits.tracked('payer_failures')}`,
    `heap: +${mb(built.heap - base.heap)} once built, +${mb(full.heap - base.heap)} full (after all addresses); RSS ${mb(base.rss)} → ${mb(built.rss)} → ${mb(full.rss)}`,
    `challenge, new address (insert, evicting): ${(newNs / N).toFixed(0)} ns`,
    `challenge, known address: ${knownNs.toFixed(0)} ns`,
    `paid path, client + payer checks that miss: ${paidNs.toFixed(0)} ns`,
    `baseline, one Map.get that misses (100k entries): ${mapNs.toFixed(0)} ns${sink === 0 ? '' : ''}`,
  ].join('\n'),
);
