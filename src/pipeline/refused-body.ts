/**
 * The body of a request the gateway refuses (402, 400, 404, 413, 429, 503… — any reply written
 * before the forward stage took the body) is not drained to its end. Node would, to keep the
 * connection alive: an unpaid upload of gigabytes was read whole after its 402 (issue 13).
 *
 * - `Expect: 100-continue` (server.ts routes it here without node's automatic 100): the body is
 *   not sent yet, and never asked for. The refusal says `connection: close`, no 100 ever goes out.
 *   A forwarded request gets its 100 Continue when the forward stage takes the body.
 * - A declared Content-Length over the limit: `connection: close`; node closes the connection
 *   once the reply is out.
 * - Otherwise (a small declared body, or a chunked one): up to `limitBytes` more are read and
 *   dropped, so a small body ends cleanly and the connection stays reusable. Past the limit, or if
 *   the body has not ended within {@link LINGER_MS}, reading stops and the connection is closed
 *   once the reply has been written.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** How long a refused body may take to end (within the limit) before the connection is closed. */
export const LINGER_MS = 2_000;

const CLOSE: OutgoingHttpHeaders = Object.freeze({ connection: 'close' });

/** Requests whose client waits for a 100 Continue before sending the body. */
const awaitingContinue = new WeakSet<IncomingMessage>();
/** Requests whose body the forward stage took (it is streamed upstream, not refused). */
const taken = new WeakSet<IncomingMessage>();

/** server.ts: this request came through 'checkContinue'; no 100 has been sent. */
export function expectsContinue(req: IncomingMessage): void {
  awaitingContinue.add(req);
}

/** The forward stage reads the body now: the client that waits for a 100 Continue gets it. */
export function takeBody(req: IncomingMessage, res: ServerResponse): void {
  taken.add(req);
  if (awaitingContinue.delete(req)) res.writeContinue();
}

/**
 * Called as a reply is written: the headers to add to it (`connection: close`), or undefined.
 * Arms the bounded read of what remains of the body; does nothing once the body is in or was
 * taken by the forward stage.
 */
export function refuseBody(
  req: IncomingMessage,
  res: ServerResponse,
  limitBytes: number,
): OutgoingHttpHeaders | undefined {
  if (req.complete) return undefined;
  if (taken.has(req)) {
    // Taken for the upstream, then the exchange failed (504, 502, 408…) before it was all in: the
    // rest of the body is no longer read by anyone, so the connection cannot carry another
    // request. Kept alive, it would wait for bytes that never come (a stalled sender held its
    // socket for good after a 504).
    closeAfterReply(req, res);
    return CLOSE;
  }
  const { headers } = req;
  const length = headers['content-length'];
  // No body to come (a refusal written before node's parser marked the request complete).
  if (headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) {
    return undefined;
  }
  if (awaitingContinue.has(req)) return CLOSE;
  if (Number(length) > limitBytes) return CLOSE;
  let seen = 0;
  const cut = (): void => {
    stop();
    closeAfterReply(req, res);
  };
  const onData = (chunk: Buffer): void => {
    seen += chunk.length;
    if (seen > limitBytes) cut();
  };
  const timer = setTimeout(cut, LINGER_MS);
  timer.unref();
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', stop);
    req.off('close', stop);
  };
  req.on('data', onData);
  req.once('end', stop);
  req.once('close', stop);
  return undefined;
}

/** Stops reading the request and closes its connection once the reply is out (it may still be in node's buffers). */
function closeAfterReply(req: IncomingMessage, res: ServerResponse): void {
  req.pause();
  const socket = req.socket;
  const close = (): void => {
    socket.end(() => socket.destroy());
  };
  if (res.writableFinished) close();
  else res.once('finish', close);
}
