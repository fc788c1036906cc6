/** Baseline: a bare passthrough on an undici Pool, the forwarding library the gateway uses. */
import { fileURLToPath } from 'node:url';
import { startNodeServer, trialStart } from './node-server.js';
import type { Contender, Harness } from './types.js';

const script = fileURLToPath(new URL('../servers/undici-proxy.mjs', import.meta.url));
const start = (h: Harness) =>
  startNodeServer(h, 'undici', script, [`http://127.0.0.1:${h.upstreamPort}`], { path: '/free', timeoutMs: 15_000 });

export const undiciProxy: Contender = {
  name: 'undici',
  defaults: ['free'],
  supports: ['free'],
  prepare: (h) => trialStart(() => start(h)),
  start,
};
