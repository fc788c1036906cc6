/** Baseline: the upstream itself, no proxy (the load side's own ceiling). */
import type { Contender } from './types.js';

export const direct: Contender = {
  name: 'direct',
  defaults: ['free'],
  supports: ['free'],
  prepare: () => Promise.resolve(null),
  start: (h) =>
    Promise.resolve({
      port: h.upstreamPort,
      pid: h.upstreamPid,
      output: () => '',
      stop: () => Promise.resolve(),
    }),
};
