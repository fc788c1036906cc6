/**
 * The built-in facilitator served over HTTP in its own process (`x402-gateway facilitator --rpc URL
 * --port 0`, from the TypeScript sources through tsx): a remote facilitator for a gateway process,
 * that really broadcasts on the devnet and outlives a gateway a test SIGKILLs. The settler key goes
 * through the environment (X402_FACILITATOR_KEY), as an operator would pass it. Bounded: start-up
 * waits at most `startTimeoutMs` for the "facilitator listening on" line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface FacilitatorProcessOptions {
  /** JSON-RPC endpoint of the devnet. */
  readonly rpcUrl: string;
  /** Settler private key (pays gas). */
  readonly privateKey: string;
  /** Receipt wait after a broadcast; past it settle answers `settlement_pending`. */
  readonly receiptTimeoutMs?: number;
  readonly startTimeoutMs?: number;
}

export interface FacilitatorProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** What it printed on stderr so far. */
  stderr(): string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

export async function startFacilitatorProcess(
  o: FacilitatorProcessOptions,
): Promise<FacilitatorProcess> {
  const startTimeoutMs = o.startTimeoutMs ?? 20_000;
  const args = [
    '--import',
    'tsx',
    MAIN,
    'facilitator',
    '--rpc',
    o.rpcUrl,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
  ];
  if (o.receiptTimeoutMs !== undefined) args.push('--receipt-timeout-ms', `${o.receiptTimeoutMs}`);
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, X402_FACILITATOR_KEY: o.privateKey },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`facilitator did not start in ${startTimeoutMs} ms:\n${out}\n${err}`));
    }, startTimeoutMs);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /facilitator listening on (\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`facilitator exited (${code}) before listening:\n${out}\n${err}`));
    });
  });
  return {
    url,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
