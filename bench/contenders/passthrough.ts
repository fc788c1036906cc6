/**
 * The passthrough baselines: a plain node:http front over a forwarding library, no features, each a
 * script in servers/ run by `node <script> <port> <upstreamUrl>`.
 */
import { fileURLToPath } from 'node:url';
import { startNodeServer, trialStart } from './node-server.js';
import type { Contender, Harness } from './types.js';

function passthrough(name: string, scriptFile: string): Contender {
  const script = fileURLToPath(new URL(`../servers/${scriptFile}`, import.meta.url));
  const start = (h: Harness) =>
    startNodeServer(h, name, script, [`http://127.0.0.1:${h.upstreamPort}`], {
      path: '/free',
      timeoutMs: 15_000,
    });
  return {
    name,
    defaults: ['free'],
    supports: ['free'],
    prepare: (h) => trialStart(() => start(h)),
    start,
  };
}

/** Plain `http-proxy` with a keep-alive upstream agent: the "forwarding library itself". */
export const httpProxy = passthrough('http-proxy', 'http-proxy.mjs');

/** A bare undici `Pool`: the forwarding library the gateway uses. */
export const undiciProxy = passthrough('undici', 'undici-proxy.mjs');
