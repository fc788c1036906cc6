/** Start a `node <script> <port> ...args` server pinned to the SUT core and wait until it answers. */
import { freePort, startProcess, waitReady } from '../proc.js';
import type { Harness, Sut } from './types.js';

export async function startNodeServer(
  h: Harness,
  name: string,
  script: string,
  args: readonly string[],
  ready: { path: string; status?: number; timeoutMs: number },
  cwd?: string,
): Promise<Sut> {
  const port = await freePort();
  const m = startProcess(
    name,
    process.execPath,
    [...h.env.sutNodeArgs, script, String(port), ...args],
    { cpu: h.sutCpu, cwd },
  );
  try {
    await waitReady(m, port, ready.path, ready.timeoutMs, ready.status);
  } catch (e) {
    await m.stop();
    throw e;
  }
  return { port, pid: m.pid, output: () => m.output(), stop: () => m.stop() };
}

/** Start once and stop: null when that works, else the reason. */
export async function trialStart(start: () => Promise<Sut>): Promise<string | null> {
  try {
    const s = await start();
    await s.stop();
    return null;
  } catch (e) {
    return `cannot start: ${(e as Error).message}`;
  }
}
