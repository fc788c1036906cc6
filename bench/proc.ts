/**
 * Child processes of the benchmark: start (optionally pinned with taskset), wait until ready, stop.
 * Every child is registered so that exit, errors, SIGINT/SIGTERM and the time limit kill them all.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { processTree } from './cpu.js';

export interface Managed {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Last few KiB of stdout+stderr, for error messages. */
  output(): string;
  /** Exit code/signal once exited, else null. */
  exited(): string | null;
  stop(): Promise<void>;
}

const live = new Set<Managed>();
let tasksetOk: boolean | null = null;

/** True when `taskset` exists and can pin here. */
export function hasTaskset(): boolean {
  if (tasksetOk === null) {
    const r = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore', timeout: 5_000 });
    tasksetOk = r.status === 0;
  }
  return tasksetOk;
}

/** Pin an already running process (all its threads) to one CPU. Returns false when it cannot. */
export function pinPid(pid: number, cpu: number): boolean {
  if (!hasTaskset()) return false;
  const r = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], {
    stdio: 'ignore',
    timeout: 5_000,
  });
  return r.status === 0;
}

function killTree(pid: number, signal: NodeJS.Signals): void {
  // Children first, so an nginx master cannot respawn a worker we already killed.
  for (const p of processTree(pid).reverse()) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

/** Synchronous last resort, safe inside process.on('exit'). */
export function killAll(): void {
  for (const m of live) {
    if (m.exited() === null) killTree(m.pid, 'SIGKILL');
  }
  live.clear();
}

export interface StartOptions {
  readonly cpu?: number | null;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Spawn `cmd args` (through `taskset -c cpu` when asked and available: taskset execs, same pid). */
export function startProcess(
  name: string,
  cmd: string,
  args: readonly string[],
  opts: StartOptions = {},
): Managed {
  const pinned = opts.cpu !== undefined && opts.cpu !== null && hasTaskset();
  const file = pinned ? 'taskset' : cmd;
  const argv = pinned ? ['-c', String(opts.cpu), cmd, ...args] : [...args];
  const child = spawn(file, argv, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${cmd}`);
  let buf = '';
  const keep = (chunk: Buffer): void => {
    buf = (buf + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exit: string | null = null;
  const exitedP = new Promise<void>((resolve) => {
    child.on('exit', (code, sig) => {
      exit = sig ? `signal ${sig}` : `code ${code}`;
      resolve();
    });
    child.on('error', (err) => {
      exit = `error ${err.message}`;
      resolve();
    });
  });
  const pid = child.pid;
  const m: Managed = {
    name,
    pid,
    child,
    output: () => buf,
    exited: () => exit,
    async stop() {
      if (exit === null) {
        killTree(pid, 'SIGTERM');
        const t = setTimeout(() => killTree(pid, 'SIGKILL'), 3_000);
        await exitedP;
        clearTimeout(t);
      }
      live.delete(m);
    },
  };
  live.add(m);
  return m;
}

/** A free loopback TCP port (tiny race between close and reuse is acceptable on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One loopback HTTP request without keep-alive, bounded by `timeoutMs`. */
export function httpGet(
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 1 << 20) body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.setTimeout(opts.timeoutMs ?? 5_000, () => req.destroy(new Error(`timeout ${path}`)));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `GET path` until it answers with any HTTP status (or `expect` when given), the process
 * exits, or `timeoutMs` passes. Throws with the child's output tail on failure.
 */
export async function waitReady(
  m: Managed | null,
  port: number,
  path: string,
  timeoutMs: number,
  expect?: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if (m?.exited())
      throw new Error(`${m.name} exited (${m.exited()}) before it was ready:\n${m.output()}`);
    try {
      const r = await httpGet(port, path, { timeoutMs: 2_000 });
      if (expect === undefined || r.status === expect) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(50);
  }
  const tail = m ? `\n${m.output()}` : '';
  throw new Error(`${m?.name ?? `port ${port}`} not ready after ${timeoutMs} ms (${last})${tail}`);
}

/** Kill all children when this process ends for any reason. */
export function installCleanup(): void {
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      console.error(`\n[bench] ${sig}: stopping every child process`);
      killAll();
      process.exit(130);
    });
  }
}
