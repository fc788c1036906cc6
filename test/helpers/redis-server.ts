/**
 * A throwaway Redis (Debian's `redis-server`, which `.ci/run` installs) for the shared store's
 * tests: one server on 127.0.0.1 and a free port, no snapshots, no AOF, its folder a temporary one;
 * never the packaged instance on 6379. Every wait is bounded; `remove` stops it by pid (SIGTERM,
 * then SIGKILL) and deletes the folder. `pause`/`resume` (SIGSTOP/SIGCONT) make it slow: the TCP
 * connection stays up and nothing answers; `kill` + `start` make it down, then back on the same
 * port with nothing in memory. A missing binary is an error, never a skip: the shared store must
 * not pass by not running.
 */
import { existsSync } from 'node:fs';
import net from 'node:net';
import { freePort, spawnServer, type ServerProcess } from './server-process.js';
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
  let server: ServerProcess | undefined;

  async function start(): Promise<void> {
    const proc = spawnServer(
      'redis-server',
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
      { cwd: dir.path },
    );
    server = proc;
    const spawned = await new Promise<Error | undefined>((resolve) => {
      proc.child.once('spawn', () => resolve(undefined));
      proc.child.once('error', resolve);
    });
    if (spawned !== undefined)
      throw new Error(`cannot run ${BINARY} (${spawned.message}): ${INSTALL}`);
    try {
      await proc.waitReady(async () => (await send(port, ['PING'], 500)).startsWith('+PONG'), {
        timeoutMs: options.readyTimeoutMs ?? 10_000,
        pollMs: 20,
        notReady: `did not answer PING on port ${port}`,
      });
    } catch (err) {
      await stopServer('SIGKILL');
      throw err;
    }
  }

  /** Signal the server and wait (bounded) for its exit; SIGKILL if it lingers. */
  async function stopServer(signal: NodeJS.Signals): Promise<void> {
    server?.child.kill('SIGCONT'); // a paused server cannot act on SIGTERM
    await server?.stop(signal, 5_000);
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
      return server?.child.pid ?? -1;
    },
    pause: () => void server?.child.kill('SIGSTOP'),
    resume: () => void server?.child.kill('SIGCONT'),
    kill: () => stopServer('SIGKILL'),
    start,
    command: (...args) => send(port, args),
    async remove() {
      await stopServer('SIGTERM');
      dir.remove();
    },
  };
}
