/** Baseline: plain node:http + http-proxy passthrough with a keep-alive upstream agent. */
import { fileURLToPath } from 'node:url';
import { startNodeServer, trialStart } from './node-server.js';
import type { Contender, Harness } from './types.js';

const script = fileURLToPath(new URL('../servers/http-proxy.mjs', import.meta.url));
const start = (h: Harness) =>
  startNodeServer(h, 'http-proxy', script, [`http://127.0.0.1:${h.upstreamPort}`], { path: '/free', timeoutMs: 15_000 });

export const httpProxy: Contender = {
  name: 'http-proxy',
  defaults: ['free'],
  supports: ['free'],
  prepare: (h) => trialStart(() => start(h)),
  start,
};
