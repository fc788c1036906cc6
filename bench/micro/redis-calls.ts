/**
 * What one Redis round trip costs the gateway's process: `n` calls of a small Lua script (like
 * the replay guard's), `concurrency` at a time, through ioredis as src/verify/redis-replay.ts
 * configures it, then pipelined in batches. Prints the client process's CPU µs per call (user +
 * system, from process.cpuUsage) and calls/s. Needs a redis-server: pass its URL.
 *   node --import tsx bench/micro/redis-calls.ts redis://127.0.0.1:6379 [n=20000] [concurrency=32]
 */
import { Redis } from 'ioredis';

const url = process.argv[2] ?? 'redis://127.0.0.1:6379';
const n = Number(process.argv[3] ?? 20_000);
const concurrency = Number(process.argv[4] ?? 32);

const LUA = `local r = redis.call('HMGET', KEYS[1], 's', 'o')
redis.call('HSET', KEYS[1], 's', 'g', 'o', ARGV[1])
redis.call('PEXPIRE', KEYS[1], 60000)
return 1`;

interface Script {
  bench(key: string, owner: string): Promise<number>;
}

async function measure(label: string, run: () => Promise<number>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const calls = await run();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const us = (cpu.user + cpu.system) / calls;
  console.log(
    `${label.padEnd(44)} ${us.toFixed(1).padStart(6)} µs CPU/call (user ${(cpu.user / calls).toFixed(1)}, system ${(cpu.system / calls).toFixed(1)}), ${Math.round((calls / wall) * 1000)} calls/s`,
  );
}

async function loops(call: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await call(next++);
    }),
  );
  return n;
}

for (const options of [
  { label: 'ioredis, one script call per round trip', auto: false },
  { label: 'ioredis, enableAutoPipelining', auto: true },
]) {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1_000,
    enableAutoPipelining: options.auto,
    lazyConnect: true,
  }) as Redis & Script;
  redis.defineCommand('bench', { numberOfKeys: 1, lua: LUA });
  await redis.connect();
  await loops((i) => redis.bench(`bench:${i % 1000}`, 'o')); // warm-up
  await measure(options.label, () => loops((i) => redis.bench(`bench:${i % 1000}`, 'o')));
  await redis.quit();
}

{
  const redis = new Redis(url, { enableOfflineQueue: false, lazyConnect: true }) as Redis & Script;
  redis.defineCommand('bench', { numberOfKeys: 1, lua: LUA });
  await redis.connect();
  for (const batch of [4, 16]) {
    await measure(`ioredis, pipelines of ${batch}`, async () => {
      for (let i = 0; i < n; i += batch) {
        const p = redis.pipeline();
        // A pipeline's commands answer through exec(), not their own promises.
        for (let j = 0; j < batch; j++) {
          void (p as unknown as Script).bench(`bench:${(i + j) % 1000}`, 'o');
        }
        await p.exec();
      }
      return n;
    });
  }
  await redis.quit();
}
