/**
 * Heap bytes per settled payment held by the replay guard, and CPU per claim + settle.
 * Run: node --expose-gc --import tsx bench/micro/replay-memory.ts
 */
import { randomBytes } from 'node:crypto';
import { InMemoryReplayGuard } from '../../src/verify/replay.js';

const N = 200_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const keys = Array.from(
  { length: N },
  () =>
    `84532:0x036cbd53842c5426634e7929541ec2318f3dcf7e:0x${randomBytes(20).toString('hex')}:0x${randomBytes(32).toString('hex')}`,
);
const guard = new InMemoryReplayGuard({ maxEntries: 2 * N });
const expires = Date.now() + 3_600_000;
const digest = (): string => '';
gc();
gc();
const before = process.memoryUsage().heapUsed;
const t0 = process.cpuUsage();
for (const key of keys) {
  guard.claim(key, digest, expires);
  guard.markSettled(key, '0x');
}
const cpu = process.cpuUsage(t0);
gc();
gc();
const after = process.memoryUsage().heapUsed;
console.log(
  `held ${guard.size()} settled payments: ${((after - before) / N).toFixed(0)} heap bytes each (keys not counted), ${((cpu.user + cpu.system) / N).toFixed(2)} µs CPU per claim + settle`,
);
