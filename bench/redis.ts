/**
 * A throwaway redis-server for the Redis-store contenders (Debian's, which `.ci/run` installs):
 * 127.0.0.1 on a free port, no snapshots, no AOF (the bench measures the gateway, not the disk),
 * its folder under the run's scratch folder; registered like every bench child, so exit and
 * signals kill it. The few lines of test/helpers/redis-server.ts the bench needs, copied (bench/
 * must not import from test/). `INFO commandstats` counts every command the gateway sent it.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, startProcess, type Managed } from './proc.js';

export const REDIS_SERVER = process.env.BENCH_REDIS_SERVER ?? '/usr/bin/redis-server';

export interface BenchRedis {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** `INFO <section>` as text. */
  info(section: string): Promise<string>;
  stop(): Promise<void>;
}

/** Why the Redis contenders cannot run here, or null. */
export function redisMissing(): string | null {
  return fs.existsSync(REDIS_SERVER)
    ? null
    : `no ${REDIS_SERVER} (apt-get install redis-server, or set BENCH_REDIS_SERVER)`;
}

/** One command on a fresh connection, its raw RESP reply (bounded by `timeoutMs`). */
function send(port: number, args: readonly string[], timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${args[0]}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (!whole(reply)) return;
      clearTimeout(timer);
      socket.end();
      resolve(reply);
    });
    socket.write(
      `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
    );
  });
}

/** A simple reply (+OK, -ERR, :1) or one bulk string, complete. */
function whole(reply: string): boolean {
  if (!reply.endsWith('\r\n')) return false;
  if (reply[0] !== '$') return true;
  const eol = reply.indexOf('\r\n');
  const len = Number(reply.slice(1, eol));
  return len < 0 || Buffer.byteLength(reply) >= eol + 2 + len + 2;
}

/** The body of a bulk-string reply. */
function bulk(reply: string): string {
  return reply.slice(reply.indexOf('\r\n') + 2, -2);
}

export async function startRedis(tmp: string, cpu: number | null): Promise<BenchRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(tmp, 'redis-'));
  const m: Managed = startProcess(
    'redis-server',
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'].concat([
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ]),
    { cpu, cwd: dir },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (m.exited()) throw new Error(`redis-server exited (${m.exited()}):\n${m.output()}`);
    try {
      if ((await send(port, ['PING'], 500)).startsWith('+PONG')) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await m.stop();
      throw new Error(`redis-server did not answer PING on port ${port} within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: m.pid,
    info: async (section) => bulk(await send(port, ['INFO', section])),
    async stop() {
      await m.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `cmdstat_evalsha:calls=12,usec=…` lines → { evalsha: 12, … }. */
export function commandCounts(commandstats: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of commandstats.split('\r\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m) out[m[1] as string] = Number(m[2]);
  }
  return out;
}
