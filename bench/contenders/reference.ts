/**
 * Reference contenders: the official x402 Express middlewares (x402-express@1.2.0 for v1,
 * @x402/express@2.27.0 for v2) from the separate package bench/reference/, each guarding GET /paid
 * and forwarding to the same upstream, pointed at the same facilitator stub.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAY_TO } from '../constants.js';
import { startNodeServer, trialStart } from './node-server.js';
import type { Contender, Harness } from './types.js';

const dir = fileURLToPath(new URL('../reference/', import.meta.url));
const NEEDED = ['express', 'x402-express', '@x402/express', '@x402/core', '@x402/evm'];
let installTried = false;

function missing(): string[] {
  return NEEDED.filter((p) => !fs.existsSync(path.join(dir, 'node_modules', p, 'package.json')));
}

/** Install bench/reference's pinned lockfile once when allowed (BENCH_INSTALL_REFERENCE=1). */
function ensureInstalled(): string | null {
  if (missing().length === 0) return null;
  if (process.env.BENCH_INSTALL_REFERENCE === '1' && !installTried) {
    installTried = true;
    console.log('[bench] installing bench/reference (npm ci)…');
    spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
      cwd: dir,
      stdio: 'inherit',
      timeout: 600_000,
    });
  }
  const m = missing();
  return m.length === 0
    ? null
    : `bench/reference dependencies missing (${m.join(', ')}): run \`npm ci --prefix bench/reference\` (or set BENCH_INSTALL_REFERENCE=1)`;
}

function reference(name: 'ref-v1' | 'ref-v2', file: string, version: 1 | 2): Contender {
  const start = (h: Harness) =>
    startNodeServer(
      h,
      name,
      path.join(dir, file),
      [`http://127.0.0.1:${h.upstreamPort}`, `http://127.0.0.1:${h.facilitatorPort}`, PAY_TO],
      // GET /paid must answer 402: for v2 that also runs the SDK's lazy /supported sync.
      { path: '/paid', status: 402, timeoutMs: 30_000 },
      dir,
    );
  return {
    name,
    defaults: ['402', `paid-v${version}`],
    supports: ['free', '402', `paid-v${version}`, `paid-v${version}-slow`],
    async prepare(h) {
      return ensureInstalled() ?? trialStart(() => start(h));
    },
    start,
  };
}

export const refV1 = reference('ref-v1', 'ref-v1.mjs', 1);
export const refV2 = reference('ref-v2', 'ref-v2.mjs', 2);
