/**
 * Is an upstream up? While it is down, its priced routes answer 503 `upstream_down` instead of a
 * 402: nobody is asked to pay for a response that cannot come. Requests read `down`, one field.
 *
 * Down when, in a row with no good answer between:
 * - `failures` connect failures of forwarded requests (refused, reset, TLS refused: nothing a
 *   client chooses can cause them), or
 * - `failures` timeouts (and 5xx answers, with `count5xx`) seen from at least `minClients`
 *   distinct client addresses: one client asking for a slow or broken endpoint over and over
 *   cannot switch an upstream off for everyone, or
 * - `failures` periodic checks (every `intervalMs`: `GET path` when configured, 2xx/3xx = good;
 *   else a TCP connect, as readiness always did).
 * With `path`, a passive trip is confirmed by a check first: it only goes down if that fails too.
 *
 * Up again when the upstream answers a request (a free route, a resumed payment), when the check
 * on `path` succeeds, or, without `path`, when a TCP connect succeeds `retryAfterSeconds` after
 * going down (half-open: the next failures take it down again). Never stuck down for good.
 */
import { Client } from 'undici';
import { hostAndPort, tcpConnect } from './upstream-probe.js';

export interface UpstreamHealthOptions {
  /** The upstream's name, for messages. */
  readonly name: string;
  /** Its base URL (origin and base path). */
  readonly url: string;
  readonly failures: number;
  readonly count5xx: boolean;
  readonly minClients: number;
  readonly retryAfterSeconds: number;
  /** GET this path (under the base path) as the active check; absent: a TCP connect. */
  readonly path?: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Sent with the active GET (the upstream's own key, when it wants one). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly tls?: {
    readonly ca?: string;
    readonly rejectUnauthorized: boolean;
    readonly servername?: string;
  };
  /** Told of every change (metrics, the log). */
  readonly onChange: (state: 'up' | 'down', why: string) => void;
  readonly now?: () => number;
}

export class UpstreamHealth {
  /** The hot path's read: its priced routes answer 503 upstream_down while true. */
  down = false;
  /** The Retry-After of an upstream_down answer, seconds. */
  readonly retryAfter: string;
  /** Whether 5xx answers count as failures (the forward stage reads it per answer). */
  readonly count5xx: boolean;
  readonly #o: UpstreamHealthOptions;
  readonly #now: () => number;
  readonly #where: string;
  #connectFailures = 0;
  #clientFailures = 0;
  readonly #clients = new Set<string>();
  #checkFailures = 0;
  #lastCheckError = '';
  #checked = false;
  #confirming = false;
  #downSince = 0;
  #why = '';
  #timer: NodeJS.Timeout | undefined = undefined;
  #stopped = false;
  /** The check under way: a second asker waits for its answer rather than starting another. */
  #inflight: Promise<string | undefined> | undefined = undefined;
  #client: Client | undefined;

  constructor(options: UpstreamHealthOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.retryAfter = String(options.retryAfterSeconds);
    this.count5xx = options.count5xx;
    const { host, port } = hostAndPort(options.url);
    this.#where = options.path === undefined ? `${host}:${port}` : `GET ${options.path}`;
  }

  // --- passive: what forwarded requests met -----------------------------------------------

  /** An answer that counts as good: the failure runs start over; a down upstream is up again. */
  succeeded(): void {
    if (this.#connectFailures !== 0 || this.#clientFailures !== 0) this.#resetPassive();
    if (this.down) this.#up('it answered a request');
  }

  /** No connection (refused, reset, unreachable, TLS refused). */
  connectFailed(detail: string): void {
    if (++this.#connectFailures >= this.#o.failures) {
      this.#trip(`${this.#connectFailures} connect failures in a row (${detail})`);
    }
  }

  /** A timeout or (with count5xx) a 5xx answer, for the client at `clientKey`. */
  failed(clientKey: string, what: string): void {
    this.#clientFailures++;
    if (this.#clients.size < this.#o.minClients) this.#clients.add(clientKey);
    if (this.#clientFailures >= this.#o.failures && this.#clients.size >= this.#o.minClients) {
      this.#trip(
        `${this.#clientFailures} failures in a row (last: ${what}) from ${this.#clients.size} client addresses`,
      );
    }
  }

  // --- the periodic check ----------------------------------------------------------------

  start(): void {
    if (this.#timer === undefined && !this.#stopped) void this.#tick();
  }

  stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    return this.#client?.destroy() ?? Promise.resolve();
  }

  /** The readiness answer. */
  check(): { ok: boolean; detail: string } {
    if (this.down) {
      return {
        ok: false,
        detail:
          `${this.#o.name} down since ${new Date(this.#downSince).toISOString()} (${this.#why}): ` +
          'its priced routes answer 503 upstream_down, not 402',
      };
    }
    if (!this.#checked) return { ok: true, detail: `${this.#where}: not checked yet` };
    if (this.#checkFailures > 0) {
      return {
        ok: true,
        detail: `${this.#where}: the last check failed (${this.#lastCheckError}), checking again`,
      };
    }
    return {
      ok: true,
      detail:
        this.#o.path === undefined
          ? `${this.#where} accepts connections`
          : `${this.#where} answers`,
    };
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const error = await this.#runCheck();
    if (this.#stopped) return;
    this.#checked = true;
    let next = this.#o.intervalMs;
    if (error === undefined) {
      this.#checkFailures = 0;
      if (this.down) {
        if (this.#o.path !== undefined) this.#up(`${this.#where} answered`);
        else {
          // Half-open: a connect is only believed once Retry-After has passed since going down.
          const wait = this.#downSince + this.#o.retryAfterSeconds * 1000 - this.#now();
          if (wait <= 0) this.#up(`${this.#where} accepts connections again (half-open)`);
          else next = Math.min(next, wait);
        }
      }
    } else {
      this.#checkFailures++;
      this.#lastCheckError = error;
      if (!this.down && this.#checkFailures >= this.#o.failures) {
        this.#down(`${this.#checkFailures} checks in a row failed (${this.#where}: ${error})`);
      }
    }
    this.#timer = setTimeout(() => void this.#tick(), next);
    this.#timer.unref();
  }

  /** One check: undefined when good, else why not. Never two at once. */
  #runCheck(): Promise<string | undefined> {
    this.#inflight ??= (
      this.#o.path === undefined ? this.#connect() : this.#get(this.#o.path)
    ).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  #connect(): Promise<string | undefined> {
    const { host, port } = hostAndPort(this.#o.url);
    return tcpConnect(host, port, this.#o.timeoutMs);
  }

  async #get(path: string): Promise<string | undefined> {
    const url = new URL(this.#o.url);
    const tls = this.#o.tls;
    this.#client ??= new Client(url.origin, {
      headersTimeout: this.#o.timeoutMs,
      bodyTimeout: this.#o.timeoutMs,
      connect: {
        timeout: this.#o.timeoutMs,
        ...(tls === undefined
          ? {}
          : {
              rejectUnauthorized: tls.rejectUnauthorized,
              ...(tls.ca === undefined ? {} : { ca: tls.ca }),
              ...(tls.servername === undefined ? {} : { servername: tls.servername }),
            }),
      },
    });
    try {
      const res = await this.#client.request({
        method: 'GET',
        path: url.pathname.replace(/\/+$/, '') + path,
        headers: { ...this.#o.headers },
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      });
      await res.body.dump();
      return res.statusCode < 400 ? undefined : `answered ${res.statusCode}`;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return (code ?? (err as Error).message).slice(0, 120);
    }
  }

  // --- state -----------------------------------------------------------------------------

  /** The passive run says down: with a check path it must fail too; without one, down now. */
  #trip(why: string): void {
    if (this.down || this.#confirming) return;
    if (this.#o.path === undefined) return this.#down(why);
    this.#confirming = true;
    void this.#runCheck().then((error) => {
      this.#confirming = false;
      if (error === undefined)
        this.#resetPassive(); // the check answers: not down
      else this.#down(`${why}; confirmed: ${this.#where} ${error}`);
    });
  }

  #down(why: string): void {
    if (this.down || this.#stopped) return;
    this.down = true;
    this.#downSince = this.#now();
    this.#why = why;
    this.#resetPassive();
    this.#o.onChange('down', why);
    if (this.#o.path === undefined && this.#timer !== undefined) {
      // The half-open connect comes when Retry-After has passed.
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => void this.#tick(), this.#o.retryAfterSeconds * 1000);
      this.#timer.unref();
    }
  }

  #up(why: string): void {
    if (!this.down) return;
    this.down = false;
    this.#checkFailures = 0;
    this.#resetPassive();
    this.#o.onChange('up', why);
  }

  #resetPassive(): void {
    this.#connectFailures = 0;
    this.#clientFailures = 0;
    this.#clients.clear();
  }
}
