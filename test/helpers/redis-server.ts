/**
 * A throwaway Redis (Debian's `redis-server`, which `.ci/run` installs) for the shared store's
 * tests: one server on 127.0.0.1 and a free port, no snapshots, no AOF, its folder a temporary one;
 * never the packaged instance on 6379. Every wait is bounded; `remove` stops it by pid (SIGTERM,
 * then SIGKILL) and deletes the folder. `pause`/`resume` (SIGSTOP/SIGCONT) make it slow: the TCP
 * connection stays up and nothing answers; `kill` + `start` make it down, then back on the same
 * port with nothing in memory. A missing binary is an error, never a skip: the shared store must
 * not pass by not running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { tempDir, type TempDir } from './temp-dir.js';

const INSTALL = "install Debian's redis-server: apt-get install redis-server";
const BINARY = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

export interface RedisServerOptions {
  /** Extra `--name value` arguments, e.g. `['--maxmemory', '10mb']`. */
  readonly args?: readonly string[];
  /** Bound on start-up until PING answers, ms. Default 10 000. */
  readonly readyTimeoutMs?: number;
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The server's pid (changes on `start`). */
  readonly pid: number;
  /** SIGSTOP: connections stay open, nothing answers. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** SIGKILL, waiting for the exit: down, memory lost. */
  kill(): Promise<void>;
  /** Start it again on the same port (after `kill`). */
  start(): Promise<void>;
  /** One command on a fresh connection (bounded), its reply as text. */
  command(...args: string[]): Promise<string>;
  /** Stop it and delete its folder. */
  remove(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** One inline command over RESP, answered within `timeoutMs` (or rejected). */
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
      if (!complete(reply)) return;
      clearTimeout(timer);
      socket.end();
      resolve(reply);
    });
    const body = args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
    socket.write(`*${args.length}\r\n${body}`);
  });
}

/** Whether a RESP reply is whole (simple replies, bulk strings and flat arrays: all tests need). */
function complete(reply: string): boolean {
  if (!reply.endsWith('\r\n')) return false;
  if (reply[0] !== '*')
    return reply[0] !== '$' || reply.startsWith('$-1') || reply.split('\r\n').length >= 3;
  const lines = reply.split('\r\n');
  const count = Number(lines[0]!.slice(1));
  let i = 1;
  for (let n = 0; n < count; n++) {
    const line = lines[i];
    if (line === undefined) return false;
    i += line.startsWith('$') && line !== '$-1' ? 2 : 1;
  }
  return i <= lines.length - 1;
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!existsSync(BINARY)) throw new Error(`no ${BINARY}: ${INSTALL}`);
  const dir: TempDir = tempDir('x402-redis-');
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = '';

  async function start(): Promise<void> {
    stderr = '';
    const proc = spawn(
      BINARY,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir.path,
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
        ...(options.args ?? []),
      ],
      { cwd: dir.path, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const keep = (chunk: Buffer): void => {
      stderr = (stderr + chunk.toString()).slice(-4_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const spawned = await new Promise<Error | undefined>((resolve) => {
      proc.once('spawn', () => resolve(undefined));
      proc.once('error', resolve);
    });
    if (spawned !== undefined)
      throw new Error(`cannot run ${BINARY} (${spawned.message}): ${INSTALL}`);
    const deadline = Date.now() + (options.readyTimeoutMs ?? 10_000);
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`redis-server exited while starting:\n${stderr}`);
      }
      try {
        if ((await send(port, ['PING'], 500)).startsWith('+PONG')) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await stopChild('SIGKILL');
        throw new Error(`redis-server did not answer PING on port ${port}:\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Signal the server and wait (bounded) for its exit; SIGKILL if it lingers. */
  async function stopChild(signal: NodeJS.Signals): Promise<void> {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT'); // a paused server cannot act on SIGTERM
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const late = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 5_000)),
    ]);
    if (late) {
      proc.kill('SIGKILL');
      await exited;
    }
  }

  try {
    await start();
  } catch (err) {
    dir.remove();
    throw err;
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? -1;
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    kill: () => stopChild('SIGKILL'),
    start,
    command: (...args) => send(port, args),
    async remove() {
      await stopChild('SIGTERM');
      dir.remove();
    },
  };
}
