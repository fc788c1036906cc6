/**
 * A fault-injecting HTTP proxy in front of a real facilitator (e.g. the built-in one served over
 * HTTP on a devnet, devnet.ts `startBuiltInFacilitator({ http: true })`). /verify, /supported and
 * anything else go through untouched; each POST /settle gets the fault its `decide` callback picks:
 *
 * - `pass`: forwarded, its answer returned as is;
 * - `fail-before`: HTTP 500 without forwarding: nothing moved;
 * - `fail-after`: forwarded (the money moves), then the answer is replaced by an HTTP 500;
 * - `garbage-after`: forwarded (the money moves), then the answer is replaced by a 200 that is not
 *   JSON;
 * - `late-after`: forwarded at once (the money moves), its answer held `lateMs` (past the caller's
 *   settle deadline) before it is written to whoever is still listening;
 * - `late-before`: held `lateMs`, then forwarded whether or not the caller is still there (the
 *   caller gave up; the money moves later anyway).
 *
 * A decision may carry a `before` hook, awaited before the fault is applied (e.g. make the paying
 * client leave, or SIGKILL the gateway, while its settlement is in flight). No fakes behind it: a
 * forwarded settle is the real facilitator's, on the real chain.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type SettleFault =
  'pass' | 'fail-before' | 'fail-after' | 'garbage-after' | 'late-after' | 'late-before';

export const SETTLE_FAULTS: readonly SettleFault[] = [
  'pass',
  'fail-before',
  'fail-after',
  'garbage-after',
  'late-after',
  'late-before',
];

/** One POST /settle as the proxy received it. */
export interface SettleCall {
  /** The parsed body (undefined when it is not JSON). */
  readonly body: unknown;
  /** `paymentPayload.payload.authorization.nonce`, lower case, when present. */
  readonly nonce: string | undefined;
}

export interface SettleDecision {
  readonly fault: SettleFault;
  /** Awaited before the fault is applied (before forwarding, for the faults that forward). */
  readonly before?: () => Promise<void>;
}

export interface FaultyFacilitatorOptions {
  /** The real facilitator's base URL. */
  readonly target: string;
  /** How long `late-*` faults hold, ms: make it longer than the caller's settle deadline. */
  readonly lateMs: number;
  /** The fault of one /settle; called once per call, as it arrives. */
  decide(call: SettleCall): SettleDecision | SettleFault;
}

export interface FaultyFacilitator {
  /** Base URL, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** /settle calls received, per fault applied. */
  readonly counts: Readonly<Record<SettleFault, number>>;
  /** /settle calls forwarded to the real facilitator, and how many of those it answered success. */
  readonly forwarded: { readonly calls: number; readonly successes: number };
  /** Resolves once every /settle received so far has ended (forwarded and answered, or refused). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export async function startFaultyFacilitator(
  o: FaultyFacilitatorOptions,
): Promise<FaultyFacilitator> {
  const target = o.target.replace(/\/+$/, '');
  const counts = Object.fromEntries(SETTLE_FAULTS.map((f) => [f, 0])) as Record<
    SettleFault,
    number
  >;
  const forwarded = { calls: 0, successes: 0 };
  const work = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  async function forward(method: string, path: string, body: string): Promise<Answer> {
    const r = await fetch(`${target}${path}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
    });
    return {
      status: r.status,
      contentType: r.headers.get('content-type') ?? 'application/json',
      body: await r.text(),
    };
  }

  function reply(res: http.ServerResponse, a: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(a.status, {
      'content-type': a.contentType,
      'content-length': Buffer.byteLength(a.body),
    });
    res.end(a.body);
  }

  async function settle(res: http.ServerResponse, path: string, text: string): Promise<void> {
    const body = parseJson(text);
    const decided = o.decide({ body, nonce: nonceOf(body) });
    const decision: SettleDecision = typeof decided === 'string' ? { fault: decided } : decided;
    counts[decision.fault]++;
    if (decision.before !== undefined) await decision.before();
    const send = async (): Promise<Answer> => {
      forwarded.calls++;
      const a = await forward('POST', path, text);
      if ((parseJson(a.body) as { success?: unknown } | undefined)?.success === true)
        forwarded.successes++;
      return a;
    };
    switch (decision.fault) {
      case 'pass':
        reply(res, await send());
        return;
      case 'fail-before':
        reply(res, { status: 500, contentType: 'text/plain', body: 'Internal Server Error' });
        return;
      case 'fail-after':
        await send();
        reply(res, { status: 500, contentType: 'text/plain', body: 'Internal Server Error' });
        return;
      case 'garbage-after':
        await send();
        reply(res, { status: 200, contentType: 'text/html', body: '<html>bad gateway</html>' });
        return;
      case 'late-after': {
        const a = await send();
        await sleep(o.lateMs);
        reply(res, a);
        return;
      }
      case 'late-before':
        await sleep(o.lateMs);
        if (closed) return;
        reply(res, await send());
        return;
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      const method = req.method ?? 'GET';
      const job =
        method === 'POST' && path.split('?')[0]!.endsWith('/settle')
          ? settle(res, path, text)
          : forward(method, path, text).then((a) => reply(res, a));
      const tracked = job.catch((err: unknown) => {
        reply(res, { status: 502, contentType: 'text/plain', body: `proxy: ${String(err)}` });
      });
      work.add(tracked);
      void tracked.finally(() => work.delete(tracked));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    forwarded,
    async idle() {
      while (work.size > 0) await Promise.allSettled([...work]);
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function nonceOf(body: unknown): string | undefined {
  const nonce = (
    body as { paymentPayload?: { payload?: { authorization?: { nonce?: unknown } } } } | undefined
  )?.paymentPayload?.payload?.authorization?.nonce;
  return typeof nonce === 'string' ? nonce.toLowerCase() : undefined;
}
