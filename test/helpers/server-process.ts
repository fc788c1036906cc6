/**
 * A throwaway server as a child process, for the helpers that run a real one (postgres-server.ts,
 * redis-server.ts, prometheus-server.ts): a free port to give it, the tail of what it printed (for
 * failure messages), a readiness wait that gives up when the process exits or a deadline passes,
 * and a stop that escalates to SIGKILL after a bound, so no test waits on a server forever. What
 * each server needs beyond that (its arguments, its probe, its clean-up on the test process's
 * exit, its folder) stays in its own helper.
 *
 * bench/proc.ts does the like for the benchmark, with a registry and process trees the tests do
 * not need; test helpers do not import from bench/.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import net from 'node:net';

/** A free loopback TCP port (another process may take it before the server binds: rare). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** The last `logBytes` of what it wrote on stdout and stderr. */
  log(): string;
  /** Whether it has exited, or failed to start at all (the reason is in `log`). */
  exited(): boolean;
  /**
   * Poll `ready` every `pollMs` until it answers true. Throws `<name> exited while starting` if
   * the process ends first, or `<name> <notReady>` once `timeoutMs` has passed, each with the log.
   */
  waitReady(ready: () => Promise<boolean>, o: ReadyOptions): Promise<void>;
  /** Send `signal` and wait for the exit; SIGKILL if it has not exited after `graceMs`. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<void>;
}

export interface ReadyOptions {
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** How the timeout reads after the name, e.g. `did not answer PING on port 6380`. */
  readonly notReady: string;
}

export interface ServerSpawnOptions extends Pick<SpawnOptions, 'cwd' | 'uid' | 'gid'> {
  /** How much of its output to keep for messages. Default 4 000 characters. */
  readonly logBytes?: number;
}

/** Spawn `command args` with stdout and stderr kept (their tail) and stdin closed. */
export function spawnServer(
  name: string,
  command: string,
  args: readonly string[],
  options: ServerSpawnOptions = {},
): ServerProcess {
  const { logBytes = 4_000, ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer | string): void => {
    log = (log + chunk.toString()).slice(-logBytes);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A spawn that fails (no binary, no permission) emits `error` and never `exit`.
  let ended = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      ended = true;
      resolve();
    });
    child.once('error', (err) => {
      keep(`\nspawn failed: ${err.message}`);
      ended = true;
      resolve();
    });
  });

  return {
    child,
    log: () => log,
    exited: () => ended,
    async waitReady(ready, o) {
      const deadline = Date.now() + o.timeoutMs;
      for (;;) {
        if (ended) throw new Error(`${name} exited while starting:\n${log}`);
        try {
          if (await ready()) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`${name} ${o.notReady}:\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, o.pollMs));
      }
    },
    async stop(signal, graceMs) {
      if (ended) return;
      child.kill(signal);
      const killed = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(killed);
    },
  };
}
