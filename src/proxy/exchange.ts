/**
 * One request to the upstream and its response: undici's dispatch handler, and the response body
 * the pipeline holds while it settles, then streams to the client (or reads, or drops).
 *
 * Until the pipeline says where the bytes go (after settling, on a paid route), the body waits
 * here: the first HOLD_BYTES in memory, then the dispatch is paused and the rest stays in the
 * upstream socket. Most API responses fit, so they are never paused and resumed, which cost ~1.5 µs
 * per request. A class with methods rather than a nest of closures: one is made per forwarded request.
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { keepReading } from './write-deadline.js';

export type ForwardResult =
  | { readonly kind: 'response'; readonly response: UpstreamResponse }
  | {
      readonly kind: 'error';
      /**
       * unavailable = refused/reset/DNS; timeout = no response headers in time; client_gone = the
       * client left first; body_timeout = the client's request body stopped arriving.
       */
      readonly error: 'unavailable' | 'timeout' | 'client_gone' | 'body_too_large' | 'body_timeout';
      readonly detail: string;
    };

/** The upstream's answer, its body not read yet. Exactly one of the three consumers is called. */
export interface UpstreamResponse {
  readonly status: number;
  /** As received, names in lower case. */
  readonly headers: IncomingHttpHeaders;
  /** Stream the body into `res`, whose head is written, and end it; a failure mid-body destroys `res`. */
  pipeTo(res: ServerResponse): void;
  /** The whole body if it fits in `max` bytes; otherwise why not (and the response is dropped). */
  read(max: number): Promise<Buffer | 'too_large' | 'broken'>;
  /** Drop the body: the upstream connection is closed rather than drained. */
  discard(): void;
}

class UpstreamTimeoutError extends Error {
  readonly code = 'GW_ERR_UPSTREAM_TIMEOUT';
}

class ClientGoneError extends Error {
  readonly code = 'GW_ERR_CLIENT_GONE';
}

class DiscardedError extends Error {
  readonly code = 'GW_ERR_DISCARDED';
}

/** Marks a body stream error raised by our own size limiter. */
export class BodyTooLargeError extends Error {
  readonly code = 'GW_ERR_BODY_TOO_LARGE';
}

/** Marks a request body stream destroyed because the client stopped sending it. */
export class BodyStalledError extends Error {
  readonly code = 'GW_ERR_BODY_STALLED';
}

interface Reader {
  readonly max: number;
  readonly resolve: (body: Buffer | 'too_large' | 'broken') => void;
  size: number;
}

/** Body bytes kept in memory for a consumer still to come; past them the upstream is paused. */
const HOLD_BYTES = 16 * 1024;

export class Exchange implements Dispatcher.DispatchHandler, UpstreamResponse {
  status = 0;
  headers: IncomingHttpHeaders = {};
  #controller: Dispatcher.DispatchController | undefined = undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The forward result is out (a response or an error): later events only concern the body. */
  #answered = false;
  #timedOut = false;
  #ended = false;
  #broken = false;
  #discarded = false;
  /** Chunks that arrived before a consumer did (or that a read collects). */
  #held: Buffer[] = [];
  #heldBytes = 0;
  #sink: ServerResponse | undefined = undefined;
  #reader: Reader | undefined = undefined;

  constructor(
    /** The client's response: its socket tells whether the client is still there. */
    private readonly res: ServerResponse,
    private readonly timeoutMs: number,
    /** How long queued response bytes may wait for the client (write-deadline.ts), ms. */
    private readonly writeIdleMs: number,
    private readonly done: (result: ForwardResult) => void,
  ) {
    this.#timer = setTimeout(onDeadline, timeoutMs, this);
  }

  /** The client left: before the answer nobody waits for it; during the body, free the socket. */
  readonly onClientClose = (): void => {
    if (!this.#answered) this.abort(new ClientGoneError('client connection closed'));
    else if (!this.#ended && !this.#discarded) this.discard();
  };

  abort(reason: Error): void {
    if (reason instanceof UpstreamTimeoutError) this.#timedOut = true;
    if (this.#controller !== undefined) this.#controller.abort(reason);
    // Still queued for a connection: answer now; onRequestStart aborts it when it gets one.
    else this.#answer(classify(reason, this.#timedOut, this.res, this.timeoutMs));
  }

  // --- undici's side -------------------------------------------------------------------------

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#answered) controller.abort(new DiscardedError('already answered'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (statusCode < 200 || this.#answered) return; // 1xx: the real answer follows
    this.status = statusCode;
    this.headers = headers;
    this.#answer({ kind: 'response', response: this });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#sink !== undefined) {
      if (!this.#sink.write(chunk)) {
        keepReading(this.#sink, this.writeIdleMs);
        controller.pause();
        this.#sink.once('drain', this.#resume);
      }
    } else if (this.#reader !== undefined) {
      this.#take(chunk);
    } else if (!this.#discarded) {
      this.#held.push(chunk);
      this.#heldBytes += chunk.length;
      if (this.#heldBytes >= HOLD_BYTES) controller.pause();
    }
  }

  onResponseEnd(): void {
    this.#ended = true;
    if (this.#sink !== undefined) {
      this.#sink.end();
      keepReading(this.#sink, this.writeIdleMs);
    } else if (this.#reader !== undefined) this.#finishRead();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (!this.#answered) {
      this.#answer(classify(err, this.#timedOut, this.res, this.timeoutMs));
      return;
    }
    this.#broken = true;
    if (this.#sink !== undefined) this.#sink.destroy();
    else if (this.#reader !== undefined) this.#reader.resolve('broken');
  }

  // --- the pipeline's side -------------------------------------------------------------------

  pipeTo(res: ServerResponse): void {
    this.#sink = res;
    for (const chunk of this.#held) res.write(chunk);
    this.#held = [];
    this.#heldBytes = 0;
    if (this.#ended) res.end();
    else if (this.#broken) res.destroy();
    else this.#resume();
    keepReading(res, this.writeIdleMs);
  }

  read(max: number): Promise<Buffer | 'too_large' | 'broken'> {
    return new Promise((resolve) => {
      if (this.#broken) return resolve('broken');
      const reader: Reader = { max, resolve, size: 0 };
      this.#reader = reader;
      const held = this.#held;
      this.#held = [];
      this.#heldBytes = 0;
      for (const chunk of held) if (!this.#take(chunk)) return;
      if (this.#ended) this.#finishRead();
      else this.#resume();
    });
  }

  discard(): void {
    if (this.#discarded) return;
    this.#discarded = true;
    this.#held = [];
    if (!this.#ended && !this.#broken)
      this.#controller?.abort(new DiscardedError('response dropped'));
  }

  // --- internals -----------------------------------------------------------------------------

  #answer(result: ForwardResult): void {
    if (this.#answered) return;
    this.#answered = true;
    clearTimeout(this.#timer);
    this.done(result);
  }

  readonly #resume = (): void => {
    if (this.#controller?.paused === true) this.#controller.resume();
  };

  /** Adds a chunk to the read under way; false once it went over its limit. */
  #take(chunk: Buffer): boolean {
    const reader = this.#reader!;
    reader.size += chunk.length;
    if (reader.size > reader.max) {
      // Answered before the drop, whose abort reports the stream as broken.
      reader.resolve('too_large');
      this.discard();
      return false;
    }
    this.#held.push(chunk);
    return true;
  }

  #finishRead(): void {
    const reader = this.#reader!;
    const body = Buffer.concat(this.#held, reader.size);
    this.#held = [];
    reader.resolve(body);
  }
}

function onDeadline(exchange: Exchange): void {
  exchange.abort(new UpstreamTimeoutError('upstream timeout'));
}

function classify(
  err: Error,
  timedOut: boolean,
  res: ServerResponse,
  timeoutMs: number,
): ForwardResult {
  if (timedOut || err instanceof UpstreamTimeoutError) {
    return {
      kind: 'error',
      error: 'timeout',
      detail: `no upstream response within ${timeoutMs} ms`,
    };
  }
  if (err instanceof BodyTooLargeError)
    return { kind: 'error', error: 'body_too_large', detail: err.message };
  if (err instanceof BodyStalledError)
    return { kind: 'error', error: 'body_timeout', detail: err.message };
  if (err instanceof ClientGoneError || res.destroyed || res.socket?.destroyed === true) {
    return { kind: 'error', error: 'client_gone', detail: 'client connection closed' };
  }
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  return { kind: 'error', error: 'unavailable', detail: `${code}: ${err.message}`.slice(0, 200) };
}
