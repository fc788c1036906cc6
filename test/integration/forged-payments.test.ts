/**
 * Issue 13, forged payments: a flood of schema-valid headers with random 65-byte signatures must
 * not cost a facilitator /verify each. The local signature check (verify/local-check.ts) refuses
 * them while the failure ratio is high and the chain says `from` has no code; honest payments still
 * verify through the facilitator and pay; a contract wallet, a longer signature and a network
 * without an RPC always reach the facilitator; a refused forgery never displaces the honest
 * verdict cached for the same authorization.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import type { ChainReader } from '../../src/chains/index.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { payWith, signFor, type PaymentHeader } from '../helpers/pay.js';
import { encodePaymentHeader, testAccount } from '../helpers/payments.js';
import type { PaymentPayloadV2 } from '../../src/x402/types.js';

const NETWORK = 'eip155:84532';
const FLOOD = 2_000;
const CONCURRENCY = 50;

/** A chain whose only contracts are `contracts`; counts code lookups. */
class FakeChain implements ChainReader {
  readonly contracts = new Set<string>();
  lookups = 0;
  checkTransfer(): never {
    throw new Error('not asked here');
  }
  checkSettled(): never {
    throw new Error('not asked here');
  }
  hasCode(address: Address): Promise<boolean> {
    this.lookups++;
    return Promise.resolve(this.contracts.has(address.toLowerCase()));
  }
}

let h: Harness;
const chain = new FakeChain();
let template: PaymentHeader;

function chains(): Map<string, ChainReader> {
  return h.gateway.gateway.deps.chains as Map<string, ChainReader>;
}

const randomAddress = (): Address => `0x${randomBytes(20).toString('hex')}`;
const randomHex = (bytes: number): Hex => `0x${randomBytes(bytes).toString('hex')}`;

/** The template payment re-signed by nobody: `from`, a fresh nonce, a random signature. */
function forged(from: Address, signature: Hex = randomHex(65), nonce: Hex = randomHex(32)) {
  const p = template.payload as PaymentPayloadV2;
  const payload = {
    ...p,
    payload: { signature, authorization: { ...p.payload.authorization, from, nonce } },
  };
  return {
    name: 'payment-signature',
    value: encodePaymentHeader(payload),
    payload,
  } as const satisfies PaymentHeader;
}

/** One paid GET over a keep-alive agent: status and the refusal reason, if any. */
function send(agent: http.Agent, header: PaymentHeader): Promise<string> {
  const url = new URL(h.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: '/v1/quote',
        headers: { [header.name]: header.value },
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          resolve(
            res.statusCode === 402
              ? String((JSON.parse(body) as { reason?: string }).reason)
              : String(res.statusCode),
          );
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function flood(
  headers: readonly PaymentHeader[],
  concurrency = CONCURRENCY,
): Promise<Map<string, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const reasons = new Map<string, number>();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < headers.length) {
          const reason = await send(agent, headers[next++]!);
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return reasons;
}

beforeAll(async () => {
  // The flood comes from one address: the per-client failure limit (rateLimits) would refuse it
  // with 429 after 120 failures. Off here, so the signature check is what is measured.
  h = await startHarness({ extraYaml: 'rateLimits: { enabled: false }' });
  chains().set(NETWORK, chain);
  template = await signFor(h.url, '/v1/quote', { version: 2, account: testAccount(2) });
});
afterAll(async () => {
  await h?.close();
});

describe('forged payments', () => {
  it(`${FLOOD} forged headers cost far fewer than ${FLOOD} facilitator /verify calls`, async () => {
    const verifyBefore = h.facilitator.calls.verify;
    // 200 victims: the code of each is looked up once, then cached.
    const victims = Array.from({ length: 200 }, randomAddress);
    const headers = Array.from({ length: FLOOD }, (_, i) => forged(victims[i % victims.length]!));
    const started = performance.now();
    // The first ones, a few at a time (the loopback facilitator answers in 500 ms or the gateway
    // says 503): they are what arms the check. Then the rest, 50 at a time.
    const reasons = await flood(headers.slice(0, 40), 4);
    for (const [reason, n] of await flood(headers.slice(40))) {
      reasons.set(reason, (reasons.get(reason) ?? 0) + n);
    }
    const ms = performance.now() - started;
    const calls = h.facilitator.calls.verify - verifyBefore;
    console.log(
      `flood: ${FLOOD} forged → ${calls} facilitator /verify calls, ${chain.lookups} code lookups, ${Math.round(ms)} ms; reasons ${JSON.stringify([...reasons])}`,
    );
    // Every one refused with the facilitator's own answer, and almost none asked it.
    expect(reasons.get('invalid_exact_evm_payload_signature')).toBe(FLOOD);
    expect(calls).toBeLessThan(FLOOD / 20);
    expect(chain.lookups).toBeLessThanOrEqual(victims.length);
  });

  it('an honest payment during the attack still verifies through the facilitator and pays', async () => {
    const verifyBefore = h.facilitator.calls.verify;
    const settleBefore = h.facilitator.calls.settle;
    const honest = await signFor(h.url, '/v1/quote', { version: 2, account: testAccount(3) });
    const res = await payWith(h.url, '/v1/quote', honest);
    expect(res.status, res.body).toBe(200);
    expect(h.facilitator.calls.verify).toBe(verifyBefore + 1);
    expect(h.facilitator.calls.settle).toBe(settleBefore + 1);
  });

  it('a contract wallet (code at from) reaches the facilitator whatever its 65 bytes', async () => {
    const wallet = randomAddress();
    chain.contracts.add(wallet.toLowerCase());
    const before = h.facilitator.calls.verify;
    const res = await payWith(h.url, '/v1/quote', forged(wallet));
    expect(res.status).toBe(402);
    expect(h.facilitator.calls.verify).toBe(before + 1);
  });

  it('a longer signature (ERC-1271/6492) always reaches the facilitator', async () => {
    const before = h.facilitator.calls.verify;
    const res = await payWith(h.url, '/v1/quote', forged(randomAddress(), randomHex(130)));
    expect(res.status).toBe(402);
    expect(h.facilitator.calls.verify).toBe(before + 1);
  });

  it('without an RPC for the network nothing proves from code-free: the facilitator answers', async () => {
    chains().delete(NETWORK);
    try {
      const before = h.facilitator.calls.verify;
      const res = await payWith(h.url, '/v1/quote', forged(randomAddress()));
      expect(res.status).toBe(402);
      expect(h.facilitator.calls.verify).toBe(before + 1);
    } finally {
      chains().set(NETWORK, chain);
    }
  });

  it('a refused forgery of an authorization does not displace its cached honest verdict', async () => {
    // /v1/fail: the upstream fails, the payment is released and its "valid" cached.
    const account = testAccount(4);
    const honest = await signFor(h.url, '/v1/fail', { version: 2, account });
    expect((await payWith(h.url, '/v1/fail', honest)).status).toBe(500);
    const p = honest.payload as PaymentPayloadV2;
    const twin = {
      ...p,
      payload: { ...p.payload, signature: randomHex(65) },
    };
    const forgery = { name: 'payment-signature', value: encodePaymentHeader(twin), payload: twin };
    const afterFirst = h.facilitator.calls.verify;
    const refused = await payWith(h.url, '/v1/fail', forgery as PaymentHeader);
    expect(refused.status).toBe(402);
    expect(JSON.parse(refused.body)).toMatchObject({
      reason: 'invalid_exact_evm_payload_signature',
    });
    const afterForgery = h.facilitator.calls.verify;
    // The honest retry is answered from the cache: no /verify call.
    expect((await payWith(h.url, '/v1/fail', honest)).status).toBe(500);
    expect(h.facilitator.calls.verify).toBe(afterForgery);
    // (The forgery itself was refused locally while the check is armed.)
    expect(afterForgery - afterFirst).toBeLessThanOrEqual(1);
  });
});
