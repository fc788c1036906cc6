/**
 * The replay guard under a load test's pattern: `IN_FLIGHT` claims open at a time (the
 * connections), each settled in arrival order, every key new.
 * 1. CPU per claim + settle once 100k records are held, up to 400k.
 * 2. The longest single claim while the guard grows to `GROW_TO` records: a V8 Map copies its
 *    whole table when it doubles, and every request in flight waits for that copy.
 * Run: node --import tsx bench/micro/replay-cpu.ts
 */
import { randomBytes } from 'node:crypto';
import { InMemoryReplayGuard } from '../../src/verify/replay.js';

const N = 400_000;
const GROW_TO = 1_050_000;
const IN_FLIGHT = 64;
const expires = Date.now() + 3_600_000;
const digest = (): string => '';

const newKey = (): string =>
  [
    '84532',
    '0x036cbd53842c5426634e7929541ec2318f3dcf7e',
    `0x${randomBytes(20).toString('hex')}`,
    `0x${randomBytes(32).toString('hex')}`,
  ].join(':');

function cpuPerClaim(): string {
  const keys = Array.from({ length: N }, newKey);
  const guard = new InMemoryReplayGuard({ maxEntries: 2 * N });
  const run = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      guard.claim(keys[i]!, digest, expires);
      if (i - IN_FLIGHT >= from) guard.markSettled(keys[i - IN_FLIGHT]!, '0x');
    }
    for (let i = Math.max(from, to - IN_FLIGHT); i < to; i++) guard.markSettled(keys[i]!, '0x');
  };
  run(0, N / 4); // warm-up: JIT, and a map already large, as under load
  const t0 = process.cpuUsage();
  run(N / 4, N);
  const cpu = process.cpuUsage(t0);
  return `${((cpu.user + cpu.system) / (0.75 * N)).toFixed(2)} µs CPU per claim + settle (${guard.size()} held)`;
}

function longestClaim(): string {
  const guard = new InMemoryReplayGuard({ maxEntries: 2 * GROW_TO });
  let longest = 0;
  let at = 0;
  let over1ms = 0;
  for (let i = 0; i < GROW_TO; i++) {
    const key = newKey();
    const t = process.hrtime.bigint();
    guard.claim(key, digest, expires);
    guard.markSettled(key, '0x');
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (ms > 1) over1ms++;
    if (ms > longest) [longest, at] = [ms, i];
  }
  return `growing to ${GROW_TO} records: longest claim + settle ${longest.toFixed(1)} ms (at record ${at}), ${over1ms} over 1 ms`;
}

console.log(cpuPerClaim());
console.log(longestClaim());
