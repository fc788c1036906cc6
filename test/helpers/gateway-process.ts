/**
 * The gateway as its own process (`x402-gateway start --config FILE`, from the TypeScript sources
 * through tsx), so a test can SIGKILL it mid-request and start it again on the same ledger file.
 * Bounded: start-up waits at most `startTimeoutMs` for the "listening on" line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface GatewayProcess {
  readonly url: string;
  readonly adminUrl: string;
  readonly child: ChildProcess;
  /** What it printed on stderr so far (its logs). */
  stderr(): string;
  /**
   * What it printed on stdout so far: the "listening on" line and the JSON log lines (the logger
   * writes to stdout in batches of up to 20 ms, so a line may arrive a moment after the event).
   */
  stdout(): string;
  /** SIGKILL: no shutdown, no flush, as a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit (graceful). */
  stop(): Promise<void>;
}

export interface GatewayProcessOptions {
  /**
   * A compiled CLI entry point to run with plain node instead of the TypeScript sources through
   * tsx: `buildGatewaySnapshot().main` (gateway-build.ts), for tests that start many processes.
   */
  readonly main?: string;
}

export async function startGatewayProcess(
  configPath: string,
  startTimeoutMs = 20_000,
  options: GatewayProcessOptions = {},
): Promise<GatewayProcess> {
  const entry = options.main === undefined ? ['--import', 'tsx', MAIN] : [options.main];
  const child = spawn(process.execPath, [...entry, 'start', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const urls = await new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start in ${startTimeoutMs} ms:\n${out}\n${err}`));
    }, startTimeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+) \(admin (\S+)\)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ url: m[1]!, adminUrl: m[2]! });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening:\n${out}\n${err}`));
    });
  });
  return {
    ...urls,
    child,
    stderr: () => err,
    stdout: () => out,
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
