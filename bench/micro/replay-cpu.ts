/**
 * CPU per paid request spent in the replay guard, as the gateway uses it: `IN_FLIGHT` claims open
 * at a time (the connections of a load test), each settled in arrival order, every key new.
 * Run: node --import tsx bench/micro/replay-cpu.ts
 */
import { randomBytes } from 'node:crypto';
import { InMemoryReplayGuard } from '../../src/verify/replay.js';

const N = 400_000;
const IN_FLIGHT = 64;
const keys = Array.from(
  { length: N },
  () => `84532|0x036cbd53842c5426634e7929541ec2318f3dcf7e|0x${randomBytes(20).toString('hex')}|0x${randomBytes(32).toString('hex')}`,
);
const guard = new InMemoryReplayGuard({ maxEntries: 2 * N });
const expires = Date.now() + 3_600_000;
const digest = (): string => '';

function run(from: number, to: number): void {
  for (let i = from; i < to; i++) {
    guard.claim(keys[i]!, digest, expires);
    if (i - IN_FLIGHT >= from) guard.markSettled(keys[i - IN_FLIGHT]!, '0x');
  }
  for (let i = Math.max(from, to - IN_FLIGHT); i < to; i++) guard.markSettled(keys[i]!, '0x');
}

run(0, N / 4); // warm-up: JIT, and a map already large, as under load
const t0 = process.cpuUsage();
run(N / 4, N);
const cpu = process.cpuUsage(t0);
console.log(
  `${guard.size()} held, ${IN_FLIGHT} in flight: ${((cpu.user + cpu.system) / (0.75 * N)).toFixed(2)} µs CPU per claim + settle`,
);
