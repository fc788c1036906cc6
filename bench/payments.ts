/**
 * Payment headers for paid load: read the contender's 402 once, then hand out one header value per
 * request, each wrapping the next pre-signed authorization of the pool (never one twice).
 */
import { NETWORK_V1, NETWORK_V2 } from './constants.js';
import { httpGet } from './proc.js';
import type { PaymentPool } from './sign.js';

export interface Challenge {
  /** Decoded PAYMENT-REQUIRED header (v2), if the 402 carried one. */
  readonly v2: { resource: { url: string }; accepted: Record<string, unknown> } | null;
  /** accepts[0] of the v1 JSON body, if the 402 body had one. */
  readonly v1: Record<string, unknown> | null;
}

/** GET the paid path without payment; it must answer 402. */
export async function fetchChallenge(port: number, path: string): Promise<Challenge> {
  const r = await httpGet(port, path, { timeoutMs: 10_000 });
  if (r.status !== 402)
    throw new Error(`expected 402 from ${path}, got ${r.status}: ${r.body.slice(0, 200)}`);
  let v2: Challenge['v2'] = null;
  const hdr = r.headers['payment-required'];
  if (typeof hdr === 'string') {
    const pr = JSON.parse(Buffer.from(hdr, 'base64').toString('utf8')) as {
      resource?: { url?: string };
      accepts?: Record<string, unknown>[];
    };
    const accepted = pr.accepts?.[0];
    if (accepted)
      v2 = { resource: { url: pr.resource?.url ?? `http://127.0.0.1:${port}${path}` }, accepted };
  }
  let v1: Challenge['v1'] = null;
  try {
    const body = JSON.parse(r.body) as {
      x402Version?: number;
      accepts?: Record<string, unknown>[];
    };
    if (body.x402Version === 1 && body.accepts?.[0]) v1 = body.accepts[0];
  } catch {
    // v2-only servers send `{}` or nothing useful
  }
  return { v2, v1 };
}

/** The pool was signed for one payTo/amount: refuse a contender that asks for something else. */
function checkTerms(
  req: Record<string, unknown>,
  pool: PaymentPool,
  amountKey: string,
  network: string,
): void {
  const text = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  const payTo = text(req.payTo).toLowerCase();
  if (payTo !== pool.to.toLowerCase())
    throw new Error(`402 asks payTo ${payTo}, pool signed for ${pool.to}`);
  if (text(req[amountKey]) !== pool.value)
    throw new Error(`402 asks ${text(req[amountKey])}, pool signed for ${pool.value}`);
  if (req.network !== network)
    throw new Error(`402 asks network ${text(req.network)}, expected ${network}`);
}

/** Hands out header values; returns null once the pool is used up. */
export interface PaymentFeeder {
  readonly header: 'PAYMENT-SIGNATURE' | 'X-PAYMENT';
  next(): string | null;
  used(): number;
}

/** Split JSON around the two placeholders so each request only concatenates and base64-encodes. */
function template(obj: unknown): (sig: string, nonce: string) => string {
  const json = JSON.stringify(obj);
  const a = json.indexOf('"@@SIG@@"');
  const b = json.indexOf('"@@NONCE@@"');
  if (a < 0 || b < 0 || a > b) throw new Error('payment template placeholders missing');
  const p0 = json.slice(0, a);
  const p1 = json.slice(a + 9, b);
  const p2 = json.slice(b + 11);
  return (sig, nonce) =>
    Buffer.from(`${p0}"${sig}"${p1}"${nonce}"${p2}`, 'utf8').toString('base64');
}

function payload(pool: PaymentPool): Record<string, unknown> {
  return {
    signature: '@@SIG@@',
    authorization: {
      from: pool.from,
      to: pool.to,
      value: pool.value,
      validAfter: pool.validAfter,
      validBefore: pool.validBefore,
      nonce: '@@NONCE@@',
    },
  };
}

function feeder(
  header: PaymentFeeder['header'],
  pool: PaymentPool,
  build: (s: string, n: string) => string,
): PaymentFeeder {
  let i = 0;
  return {
    header,
    next() {
      if (i >= pool.count) return null;
      const v = build(pool.signature(i), pool.nonce(i));
      i++;
      return v;
    },
    used: () => i,
  };
}

/** v2: `{x402Version:2, resource:{url}, accepted:<402 accepts[0] verbatim>, payload}` in PAYMENT-SIGNATURE. */
export function v2Feeder(pool: PaymentPool, ch: Challenge): PaymentFeeder {
  if (!ch.v2) throw new Error('402 has no PAYMENT-REQUIRED header with accepts[0]');
  checkTerms(ch.v2.accepted, pool, 'amount', NETWORK_V2);
  const build = template({
    x402Version: 2,
    resource: { url: ch.v2.resource.url },
    accepted: ch.v2.accepted,
    payload: payload(pool),
  });
  return feeder('PAYMENT-SIGNATURE', pool, build);
}

/** v1: `{x402Version:1, scheme:'exact', network:'base-sepolia', payload}` in X-PAYMENT. */
export function v1Feeder(pool: PaymentPool, ch: Challenge): PaymentFeeder {
  if (ch.v1) checkTerms(ch.v1, pool, 'maxAmountRequired', NETWORK_V1);
  else if (ch.v2) checkTerms(ch.v2.accepted, pool, 'amount', NETWORK_V2);
  else throw new Error('402 carries neither a v1 body nor a v2 header');
  const build = template({
    x402Version: 1,
    scheme: 'exact',
    network: NETWORK_V1,
    payload: payload(pool),
  });
  return feeder('X-PAYMENT', pool, build);
}
