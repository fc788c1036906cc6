/**
 * What a SQLite ledger written only by a cluster's primary would add to each durable write: one
 * IPC round trip worker → primary → worker (node's `process.send`, JSON over a pipe) carrying a
 * ledger op's size (~1.5 KB) and its small answer. `server.workers` chose Postgres instead
 * (docs/operations.md, "Workers"); this is the measurement behind that choice.
 *   node --import tsx bench/micro/cluster-ipc.ts [messages=20000] [inFlight=32]
 * Prints round trips/s, wall µs per round trip, and CPU µs per round trip of the worker and of
 * the primary (process.cpuUsage, user + system), for one worker.
 */
import cluster from 'node:cluster';

const total = Number(process.argv[2] ?? 20_000);
const inFlight = Number(process.argv[3] ?? 32);
const OP = {
  op: 'change',
  key: `84532:0xasset:0xpayer:0x${'ab'.repeat(32)}`,
  pad: 'x'.repeat(1400),
};

if (cluster.isPrimary) {
  const worker = cluster.fork();
  let primaryCpu = process.cpuUsage();
  worker.on(
    'message',
    (m: { id?: number; start?: boolean; done?: { cpuUs: number; wallMs: number } }) => {
      if (m.start === true) {
        primaryCpu = process.cpuUsage();
        return;
      }
      if (m.done !== undefined) {
        const cpu = process.cpuUsage(primaryCpu);
        const primaryUs = (cpu.user + cpu.system) / total;
        const { cpuUs, wallMs } = m.done;
        console.log(
          JSON.stringify({
            messages: total,
            inFlight,
            roundTripsPerSec: Math.round(total / (wallMs / 1000)),
            wallUsPerRoundTrip: +((wallMs * 1000) / total).toFixed(1),
            workerCpuUsPerRoundTrip: +(cpuUs / total).toFixed(1),
            primaryCpuUsPerRoundTrip: +primaryUs.toFixed(1),
          }),
        );
        worker.kill();
        return;
      }
      // The primary "commits" nothing: only the hop is measured.
      worker.send({ id: m.id, ok: true, changed: true });
    },
  );
} else {
  const waiting = new Map<number, () => void>();
  process.on('message', (m: { id: number }) => waiting.get(m.id)?.());
  const send = (id: number): Promise<void> =>
    new Promise((resolve) => {
      waiting.set(id, () => {
        waiting.delete(id);
        resolve();
      });
      process.send!({ id, ...OP });
    });
  process.send!({ start: true });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await send(next++);
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  process.send!({ done: { cpuUs: cpu.user + cpu.system, wallMs: performance.now() - t0 } });
}
