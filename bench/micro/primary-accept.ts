/**
 * The cluster primary's cost per new connection (`server.workers` > 1): Node 20 has no
 * `reusePort`, so the primary accepts every connection of the paid listener and hands it to a
 * worker over IPC (round-robin). That loop is one process, one core: it bounds how many new
 * connections per second a machine's workers can take, however many cores they have.
 *   npm run build && node --import tsx bench/micro/primary-accept.ts [connections=4000] [parallel=8]
 * Starts the bench's upstream and facilitator stub, a throwaway redis-server and the built gateway
 * (dist/cli/main.js, `ledger: false`, `store.redis`, log level warn) twice: as one process and with
 * `server.workers: 2`. Each gets `connections` fresh connections (`parallel` at a time), one
 * `GET /free` each with `connection: close`, after a warm-up of a quarter as many. Prints the CPU
 * per connection of the primary alone (/proc/<pid>/stat, user + system) and of the whole process
 * tree; then the same against a bare node:cluster (bench/servers/cluster-hello.mjs: two workers
 * answering "ok"), whose primary does nothing but Node's own hand-off. The client runs in this process, unpinned: the machine's other load shares the CPUs.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ticksPerSecond, treeCpuSeconds } from '../cpu.js';
import { gatewayYaml } from '../contenders/gateway-config.js';
import { freePort, installCleanup, startProcess, waitReady, type Managed } from '../proc.js';
import { redisMissing, startRedis } from '../redis.js';

const total = Number(process.argv[2] ?? 4_000);
const parallel = Number(process.argv[3] ?? 8);
const BENCH = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ROOT = path.dirname(BENCH);
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

/** CPU seconds (user + system) of one process, not its children. */
function processCpuSeconds(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / ticksPerSecond();
}

/** One request on a fresh connection (agent: false sends `connection: close`). */
function once(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/free', agent: false, headers: { connection: 'close' } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function connections(port: number, n: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) {
      next++;
      await once(port);
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
}

async function gatewayWith(
  workers: number | undefined,
  ports: { facilitator: number; upstream: number },
  redisUrl: string,
  tmp: string,
): Promise<{ m: Managed; port: number }> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const file = path.join(tmp, `gateway-${port}.yaml`);
  fs.writeFileSync(
    file,
    gatewayYaml({
      port,
      adminPort,
      facilitatorPort: ports.facilitator,
      upstreamPort: ports.upstream,
      routes: 0,
      logLevel: 'warn',
      ledger: false,
      redisUrl,
      workers,
    }),
  );
  const m = startProcess('gateway', process.execPath, [CLI, '--config', file], { cwd: ROOT });
  await waitReady(m, port, '/free', 30_000, 200);
  return { m, port };
}

async function bareCluster(): Promise<{ m: Managed; port: number }> {
  const port = await freePort();
  const m = startProcess('cluster-hello', process.execPath, [
    path.join(BENCH, 'servers', 'cluster-hello.mjs'),
    String(port),
    '2',
  ]);
  await waitReady(m, port, '/free', 15_000, 200);
  return { m, port };
}

async function main(): Promise<void> {
  installCleanup();
  const missing = redisMissing();
  if (missing) throw new Error(missing);
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} not found: npm run build first`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'x402-primary-accept-'));
  const [up, fac] = [await freePort(), await freePort()];
  const upstream = startProcess('upstream', process.execPath, [
    path.join(BENCH, 'servers', 'upstream.mjs'),
    String(up),
  ]);
  const facilitator = startProcess('facilitator', process.execPath, [
    path.join(BENCH, 'servers', 'facilitator.mjs'),
    String(fac),
  ]);
  await waitReady(upstream, up, '/ready', 15_000);
  await waitReady(facilitator, fac, '/supported', 15_000, 200);
  const redis = await startRedis(tmp, null);
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${os.availableParallelism()} CPUs`,
  );
  try {
    for (const workers of [undefined, 2, 'bare'] as const) {
      const g =
        workers === 'bare'
          ? await bareCluster()
          : await gatewayWith(workers, { facilitator: fac, upstream: up }, redis.url, tmp);
      try {
        await connections(g.port, Math.ceil(total / 4));
        const [p0, t0, w0] = [processCpuSeconds(g.m.pid), treeCpuSeconds(g.m.pid), Date.now()];
        await connections(g.port, total);
        const [p1, t1, w1] = [processCpuSeconds(g.m.pid), treeCpuSeconds(g.m.pid), Date.now()];
        const us = (s: number): string => ((s * 1e6) / total).toFixed(1);
        const name =
          workers === undefined
            ? 'gateway, one process     '
            : workers === 'bare'
              ? 'bare node:cluster, 2 workers'
              : `gateway, workers: ${workers}    `;
        console.log(
          `${name}: ${Math.round((total * 1000) / (w1 - w0))} conn/s; ` +
            `${workers === undefined ? 'process' : 'primary'} CPU ${us(p1 - p0)} µs/conn; ` +
            `whole tree ${t0 !== null && t1 !== null ? us(t1 - t0) : '?'} µs/conn`,
        );
      } finally {
        await g.m.stop();
      }
    }
  } finally {
    await redis.stop();
    await upstream.stop();
    await facilitator.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exitCode = 1;
});
