/**
 * A response must keep being read. When bytes queue up for a client (its socket took less than we
 * wrote), the socket's idle timer is armed: node refreshes it on every write that completes, so a
 * client that keeps reading never trips it, and one that stops is destroyed by node's server when
 * it fires (nothing listens for 'timeout'), which frees its slot and drops the upstream body.
 * Armed only once bytes queue, so a response the kernel takes at once costs no timer; node swaps it
 * for the keep-alive timer when the response finishes.
 */
import type { ServerResponse } from 'node:http';

export function keepReading(res: ServerResponse, idleMs: number): void {
  const socket = res.socket;
  if (socket === null || socket.timeout === idleMs || res.writableLength === 0) return;
  socket.setTimeout(idleMs);
}
