/**
 * A request body must keep arriving. While it streams upstream the socket's idle timer is armed
 * (node refreshes it on every byte, so there is no timer per chunk); if it fires, node's server
 * emits 'timeout' on the unfinished request, and the body stream is failed with BodyStalledError:
 * the upstream request is abandoned and the forward stage answers 408 `body_timeout`. Without it a
 * socket that announces a body and sends none holds its slot for the whole requestTimeoutMs.
 * Disarmed once the body is in, so the wait for the upstream and the settlement is not counted.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { BodyStalledError } from '../proxy/index.js';

export function keepArriving(req: IncomingMessage, body: Readable, idleMs: number): void {
  if (req.complete) return;
  const socket = req.socket;
  const onIdle = (): void => {
    body.destroy(new BodyStalledError(`no request body bytes for ${idleMs} ms`));
  };
  socket.setTimeout(idleMs);
  // Listening makes node leave the socket to us: the 408 goes out, then it is closed.
  req.once('timeout', onIdle);
  req.once('end', () => {
    req.off('timeout', onIdle);
    socket.setTimeout(0);
  });
}
