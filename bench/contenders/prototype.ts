/**
 * Baseline: the bare-bones paying proxy of our design with no features (servers/prototype.mjs), as
 * the "minimal prototype". The gateway's rows divided by its rows are the cost of every
 * feature (replay guard, cache, limits, deadlines, validation, metrics, logs) on top of the design.
 */
import { fileURLToPath } from 'node:url';
import { AMOUNT, PAY_TO, USDC_BASE_SEPOLIA } from '../constants.js';
import { startNodeServer, trialStart } from './node-server.js';
import type { Contender, Harness } from './types.js';

const script = fileURLToPath(new URL('../servers/prototype.mjs', import.meta.url));
const start = (h: Harness) =>
  startNodeServer(
    h,
    'prototype',
    script,
    [
      `http://127.0.0.1:${h.upstreamPort}`,
      `http://127.0.0.1:${h.facilitatorPort}`,
      PAY_TO,
      USDC_BASE_SEPOLIA,
      AMOUNT,
    ],
    { path: '/paid', status: 402, timeoutMs: 15_000 },
  );

export const prototype: Contender = {
  name: 'prototype',
  defaults: ['free', '402', 'paid-v2', 'paid-v1'],
  supports: ['free', '402', 'paid-v2', 'paid-v1', 'paid-v2-slow', 'paid-v1-slow'],
  prepare: (h) => trialStart(() => start(h)),
  start,
};
