/**
 * Spawning and stopping the anvil binary shipped by `@foundry-rs/anvil-<os>-<arch>` (optional
 * dependency), on loopback only. Children are killed on stop() and when the parent exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { ANVIL_MNEMONIC } from '../chains/index.js';
import { listenError } from '../lib/index.js';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/**
 * Path of the anvil binary: `$ANVIL_BIN` when set, else the `@foundry-rs/anvil-<os>-<arch>` package,
 * else `anvil` on PATH.
 */
export function resolveAnvilBinary(): string {
  const fromEnv = process.env['ANVIL_BIN'];
  if (fromEnv) return fromEnv;
  const pkg = `@foundry-rs/anvil-${process.platform}-${ARCH[process.arch] ?? process.arch}`;
  try {
    const require = createRequire(import.meta.url);
    const bin = join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', 'anvil');
    if (existsSync(bin)) return bin;
  } catch {
    // not installed for this platform: fall through
  }
  return 'anvil';
}

/** A free TCP port on 127.0.0.1 (the OS picks it; tiny race until anvil binds it, retried by the caller). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Refuse a fixed port something already listens on, naming it. Otherwise anvil would fail to bind
 * and exit while the readiness probe reached the other process (another anvil, a node): the
 * devnet's setup then ran against that chain and failed far from the cause.
 */
export function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (err) => reject(listenError(err, '127.0.0.1', port, what)));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

// ------------------------------------------------------------------ child bookkeeping

const children = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

/**
 * Kill every anvil on parent exit. For SIGINT/SIGTERM/SIGHUP: when nobody else listens, re-raise the
 * signal after cleanup so the default "terminate" behaviour is kept; when the host app has its own
 * handler, only kill the children and let that handler decide.
 */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAll();
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

export interface AnvilProcess {
  readonly rpcUrl: string;
  readonly port: number;
  /** Kill the process and wait for it to exit (bounded). Idempotent. */
  stop(): Promise<void>;
}

export interface SpawnAnvilOptions {
  readonly chainId: number;
  /** 0 = pick a free port. */
  readonly port: number;
  /** Readiness deadline. */
  readonly readyTimeoutMs: number;
  readonly extraArgs?: readonly string[];
}

const STDERR_CAP = 4_096;

async function rpcReady(rpcUrl: string): Promise<boolean> {
  try {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
      signal: AbortSignal.timeout(500),
    });
    if (!res.ok) return false;
    const body = (await res.json()) as { result?: unknown };
    return typeof body.result === 'string';
  } catch {
    return false;
  }
}

async function spawnOnce(opts: SpawnAnvilOptions, port: number): Promise<AnvilProcess> {
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--chain-id',
    String(opts.chainId),
    '--mnemonic',
    ANVIL_MNEMONIC,
    '--accounts',
    '10',
    '--quiet',
    ...(opts.extraArgs ?? []),
  ];
  const child = spawn(resolveAnvilBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  installExitHooks();
  children.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (stderr.length < STDERR_CAP) stderr += chunk.slice(0, STDERR_CAP - stderr.length);
  });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      children.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      stderr += String(err.message);
      exited = true;
      children.delete(child);
      resolve();
    });
  });
  const rpcUrl = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exitPromise;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + opts.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(
        `anvil exited before becoming ready on port ${port}: ${stderr.trim() || 'no output'}`,
      );
    }
    if (await rpcReady(rpcUrl)) return { rpcUrl, port, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(
    `anvil not ready on ${rpcUrl} within ${opts.readyTimeoutMs} ms: ${stderr.trim()}`,
  );
}

/** Spawn anvil and wait until it answers JSON-RPC. With port 0, a free port is picked (3 attempts). */
export async function spawnAnvil(opts: SpawnAnvilOptions): Promise<AnvilProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < (opts.port === 0 ? 3 : 1); attempt++) {
    const port = opts.port === 0 ? await findFreePort() : opts.port;
    if (opts.port !== 0) await assertPortFree(port, 'the devnet (anvil), --port / --anvil-port');
    try {
      return await spawnOnce(opts, port);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
