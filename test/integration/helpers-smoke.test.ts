/**
 * The real HttpFacilitatorClient against the real test facilitator (loopback, port 0), with
 * payments signed by viem: proves the helpers other integration tests rely on, and maps every
 * scripted failure mode to the FacilitatorResult the gateway will see.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpFacilitatorClient } from '../../src/verify/facilitator.js';
import type { FacilitatorRequest } from '../../src/verify/types.js';
import type { PaymentRequirementsV1, PaymentRequirementsV2 } from '../../src/x402/types.js';
import {
  REASONS,
  startTestFacilitator,
  type TestFacilitator,
} from '../helpers/facilitator-server.js';
import {
  buildV1Payload,
  buildV2Payload,
  encodePaymentHeader,
  exampleRequirementV1,
  exampleRequirementV2,
  tamperSignature,
  testAccount,
} from '../helpers/payments.js';

const payer = testAccount(0);
const other = testAccount(1);
const V1: PaymentRequirementsV1 = exampleRequirementV1();
const V2: PaymentRequirementsV2 = exampleRequirementV2();

let facilitator: TestFacilitator;
let client: HttpFacilitatorClient;

beforeAll(async () => {
  facilitator = await startTestFacilitator();
  client = new HttpFacilitatorClient({
    url: facilitator.url,
    verifyTimeoutMs: 2_000,
    settleTimeoutMs: 2_000,
    supportedTimeoutMs: 2_000,
    headers: { 'x-api-key': 'test' },
    maxSockets: 8,
  });
});

afterAll(async () => {
  await client.close();
  await facilitator.close();
});

beforeEach(() => {
  facilitator.setMode('normal');
  facilitator.setLatency(0);
});

async function v1Request(
  overrides: Parameters<typeof buildV1Payload>[1] = { account: payer },
): Promise<FacilitatorRequest> {
  return {
    x402Version: 1,
    paymentPayload: await buildV1Payload(V1, overrides),
    paymentRequirements: V1,
  };
}

async function v2Request(
  overrides: Parameters<typeof buildV2Payload>[1] = { account: payer },
): Promise<FacilitatorRequest> {
  return {
    x402Version: 2,
    paymentPayload: await buildV2Payload(V2, overrides),
    paymentRequirements: V2,
  };
}

function reasonOf(r: Awaited<ReturnType<HttpFacilitatorClient['verify']>>): string | undefined {
  return r.kind === 'ok' ? r.value.invalidReason : `unavailable:${r.failure}`;
}

describe('test facilitator verifies real signatures', () => {
  it('accepts a valid v1 payment and names the payer', async () => {
    const r = await client.verify(await v1Request());
    expect(r).toEqual({ kind: 'ok', value: { isValid: true, payer: payer.address }, status: 200 });
  });

  it('accepts a valid v2 payment and names the payer', async () => {
    const req = await v2Request({ account: payer, resource: { url: 'http://x/' } });
    const r = await client.verify(req);
    expect(r).toEqual({ kind: 'ok', value: { isValid: true, payer: payer.address }, status: 200 });
  });

  it('rejects a tampered signature with invalid_exact_evm_payload_signature', async () => {
    const payment = tamperSignature(await buildV2Payload(V2, { account: payer }));
    const r = await client.verify({
      x402Version: 2,
      paymentPayload: payment,
      paymentRequirements: V2,
    });
    expect(r).toMatchObject({
      kind: 'ok',
      value: { isValid: false, invalidReason: REASONS.signature, payer: payer.address },
    });
  });

  it('rejects an authorization whose from is not the signer', async () => {
    const r = await client.verify(await v1Request({ account: payer, from: other.address }));
    expect(reasonOf(r)).toBe(REASONS.signature);
  });

  it('rejects a signature made for another token domain', async () => {
    const r = await client.verify(await v2Request({ account: payer, domainName: 'USD Coin' }));
    expect(reasonOf(r)).toBe(REASONS.signature);
  });

  it('rejects a payment to the wrong recipient', async () => {
    const r = await client.verify(await v1Request({ account: payer, to: other.address }));
    expect(reasonOf(r)).toBe(REASONS.recipient);
  });

  it('rejects a payment of another amount, with the v1 and v2 reason names', async () => {
    expect(reasonOf(await client.verify(await v1Request({ account: payer, value: 999n })))).toBe(
      REASONS.valueV1,
    );
    expect(reasonOf(await client.verify(await v2Request({ account: payer, value: 1001n })))).toBe(
      REASONS.valueV2,
    );
  });

  it('rejects an authorization expiring within the 6 s buffer or not yet valid', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expiring = await v2Request({ account: payer, validBefore: now + 3 });
    const early = await v2Request({ account: payer, validAfter: now + 60 });
    expect(reasonOf(await client.verify(expiring))).toBe(REASONS.validBefore);
    expect(reasonOf(await client.verify(early))).toBe(REASONS.validAfter);
  });

  it('rejects a payload on another network than the requirement', async () => {
    const r = await client.verify(await v1Request({ account: payer, network: 'base' }));
    expect(reasonOf(r)).toBe(REASONS.networkMismatch);
  });

  it('answers invalid_payload for a payload without an authorization', async () => {
    const r = await client.verify({
      x402Version: 1,
      paymentPayload: { x402Version: 1 },
      paymentRequirements: V1,
    });
    expect(r).toMatchObject({
      kind: 'ok',
      status: 400,
      value: { isValid: false, invalidReason: REASONS.invalidPayload },
    });
  });

  it('sends the static headers and records the request body', async () => {
    const before = facilitator.requests.length;
    const req = await v1Request();
    await client.verify(req);
    const rec = facilitator.requests[before]!;
    expect(rec.path).toBe('/verify');
    expect(rec.headers['x-api-key']).toBe('test');
    expect(rec.body).toEqual(JSON.parse(JSON.stringify(req)));
  });

  it('lists v1 and v2 kinds on /supported', async () => {
    const r = await client.supported();
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.value.kinds.map((k) => `${k.x402Version}:${k.network}`)).toEqual([
      '1:base',
      '1:base-sepolia',
      '2:eip155:8453',
      '2:eip155:84532',
    ]);
  });

  it('encodes a payment header as padded standard base64 JSON', async () => {
    const p = await buildV1Payload(V1, { account: payer });
    const h = encodePaymentHeader(p);
    expect(h).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    expect(JSON.parse(Buffer.from(h, 'base64').toString('utf8'))).toEqual(p);
  });
});

describe('test facilitator settles on its fake chain', () => {
  it('settles a payment once, records the transfer and refuses the same nonce again', async () => {
    const req = await v2Request();
    const transfersBefore = facilitator.transfers.length;
    const first = await client.settle(req);
    expect(first.kind).toBe('ok');
    if (first.kind !== 'ok') return;
    expect(first.value).toMatchObject({ success: true, network: V2.network, payer: payer.address });
    expect(first.value.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect(facilitator.transfers.slice(transfersBefore)).toEqual([
      expect.objectContaining({
        from: payer.address,
        to: V2.payTo,
        value: 1000n,
        transaction: first.value.transaction,
      }),
    ]);
    const again = await client.settle(req);
    expect(again).toMatchObject({
      kind: 'ok',
      value: { success: false, errorReason: REASONS.nonceUsed, transaction: '' },
    });
    expect(reasonOf(await client.verify(req))).toBe(REASONS.nonceUsed);
  });

  it('refuses a payer without enough balance, at verify and at settle', async () => {
    const poor = testAccount(2);
    facilitator.setBalance(poor.address, 999n);
    const req = await v1Request({ account: poor });
    expect(reasonOf(await client.verify(req))).toBe(REASONS.insufficientBalance);
    expect(await client.settle(req)).toMatchObject({
      kind: 'ok',
      value: { success: false, errorReason: REASONS.insufficientBalance },
    });
  });
});

describe('failure modes map to FacilitatorResult', () => {
  it('verify-timeout: unavailable timeout within the deadline', async () => {
    facilitator.setMode('verify-timeout');
    const fast = new HttpFacilitatorClient({
      url: facilitator.url,
      verifyTimeoutMs: 200,
      settleTimeoutMs: 200,
      supportedTimeoutMs: 200,
      headers: {},
      maxSockets: 2,
    });
    try {
      const started = performance.now();
      const r = await fast.verify(await v1Request());
      const elapsed = performance.now() - started;
      expect(r).toMatchObject({ kind: 'unavailable', failure: 'timeout' });
      expect(elapsed).toBeGreaterThanOrEqual(190);
      expect(elapsed).toBeLessThan(1_000);
    } finally {
      await fast.close();
    }
  });

  it('latency beyond the deadline also times out', async () => {
    facilitator.setLatency(500);
    const fast = new HttpFacilitatorClient({
      url: facilitator.url,
      verifyTimeoutMs: 100,
      settleTimeoutMs: 100,
      supportedTimeoutMs: 100,
      headers: {},
      maxSockets: 2,
    });
    try {
      expect(await fast.supported()).toMatchObject({ kind: 'unavailable', failure: 'timeout' });
    } finally {
      await fast.close();
    }
  });

  it('verify-500: unavailable http_error although the body looks structured', async () => {
    facilitator.setMode('verify-500');
    expect(await client.verify(await v1Request())).toMatchObject({
      kind: 'unavailable',
      failure: 'http_error',
      status: 500,
    });
  });

  it('verify-garbage: unavailable bad_response', async () => {
    facilitator.setMode('verify-garbage');
    expect(await client.verify(await v1Request())).toMatchObject({
      kind: 'unavailable',
      failure: 'bad_response',
      status: 200,
    });
  });

  it('verify-refuse: unavailable network', async () => {
    facilitator.setMode('verify-refuse');
    expect(await client.verify(await v1Request())).toMatchObject({
      kind: 'unavailable',
      failure: 'network',
    });
  });

  it('settle-timeout: unavailable timeout', async () => {
    facilitator.setMode('settle-timeout');
    const fast = new HttpFacilitatorClient({
      url: facilitator.url,
      verifyTimeoutMs: 200,
      settleTimeoutMs: 200,
      supportedTimeoutMs: 200,
      headers: {},
      maxSockets: 2,
    });
    try {
      expect(await fast.settle(await v2Request())).toMatchObject({
        kind: 'unavailable',
        failure: 'timeout',
      });
    } finally {
      await fast.close();
    }
  });

  it('settle-500: unavailable http_error, and no money moved', async () => {
    facilitator.setMode('settle-500');
    const before = facilitator.transfers.length;
    expect(await client.settle(await v2Request())).toMatchObject({
      kind: 'unavailable',
      failure: 'http_error',
      status: 500,
    });
    expect(facilitator.transfers.length).toBe(before);
  });

  it.each([
    ['settle-decline', REASONS.insufficientBalance],
    ['settle-fail-unlisted', REASONS.transactionState],
  ] as const)('%s: ok with success false and %s, nothing moved', async (mode, reason) => {
    facilitator.setMode(mode);
    const before = facilitator.transfers.length;
    expect(await client.settle(await v2Request())).toMatchObject({
      kind: 'ok',
      value: { success: false, errorReason: reason, transaction: '' },
    });
    expect(facilitator.transfers.length).toBe(before);
  });

  it('settle-500-failure-body: ok with HTTP 500 and a failure body, after the transfer moved', async () => {
    facilitator.setMode('settle-500-failure-body');
    const before = facilitator.transfers.length;
    expect(await client.settle(await v2Request())).toMatchObject({
      kind: 'ok',
      status: 500,
      value: { success: false, errorReason: 'insufficient_funds' },
    });
    expect(facilitator.transfers.length).toBe(before + 1);
  });

  it('settle-pending: ok with HTTP 500 settlement_pending and a tx hash, every time', async () => {
    facilitator.setMode('settle-pending');
    const req = await v1Request();
    const first = await client.settle(req);
    expect(first).toMatchObject({
      kind: 'ok',
      status: 500,
      value: { success: false, errorReason: REASONS.settlementPending, network: V1.network },
    });
    if (first.kind !== 'ok') return;
    expect(first.value.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    const retry = await client.settle(req);
    expect(retry).toMatchObject({
      kind: 'ok',
      status: 500,
      value: { errorReason: REASONS.settlementPending, transaction: first.value.transaction },
    });
  });

  it('settle-pending-once: the identical retry succeeds with the same tx, paid once', async () => {
    facilitator.setMode('settle-pending-once');
    const req = await v2Request();
    const before = facilitator.transfers.length;
    const first = await client.settle(req);
    expect(first).toMatchObject({
      kind: 'ok',
      status: 500,
      value: { errorReason: REASONS.settlementPending },
    });
    const retry = await client.settle(req);
    expect(retry).toMatchObject({ kind: 'ok', status: 200, value: { success: true } });
    if (first.kind !== 'ok' || retry.kind !== 'ok') return;
    expect(retry.value.transaction).toBe(first.value.transaction);
    expect(facilitator.transfers.length - before).toBe(1);
  });

  it('counts calls per endpoint whatever the mode', async () => {
    const before = { ...facilitator.calls };
    facilitator.setMode('verify-garbage');
    await client.verify(await v1Request());
    await client.supported();
    expect(facilitator.calls.verify - before.verify).toBe(1);
    expect(facilitator.calls.supported - before.supported).toBe(1);
    expect(facilitator.calls.settle - before.settle).toBe(0);
  });
});

describe('HttpFacilitatorClient reuses keep-alive sockets', () => {
  it('makes many sequential calls over one or two connections', async () => {
    const fresh = await startTestFacilitator();
    const c = new HttpFacilitatorClient({
      url: fresh.url,
      verifyTimeoutMs: 2_000,
      settleTimeoutMs: 2_000,
      supportedTimeoutMs: 2_000,
      headers: {},
      maxSockets: 8,
    });
    try {
      for (let i = 0; i < 30; i++) expect((await c.supported()).kind).toBe('ok');
      expect(fresh.calls.supported).toBe(30);
      expect(fresh.connections).toBeLessThanOrEqual(2);
    } finally {
      await c.close();
      await fresh.close();
    }
  });

  it('closes hanging requests quickly when the test facilitator closes', async () => {
    const fresh = await startTestFacilitator({ mode: 'settle-timeout' });
    const c = new HttpFacilitatorClient({
      url: fresh.url,
      verifyTimeoutMs: 10_000,
      settleTimeoutMs: 10_000,
      supportedTimeoutMs: 10_000,
      headers: {},
      maxSockets: 2,
    });
    try {
      const pending = c.settle(await v2Request());
      await expect.poll(() => fresh.calls.settle, { timeout: 1_000 }).toBe(1);
      const started = performance.now();
      await fresh.close();
      expect(performance.now() - started).toBeLessThan(500);
      expect(await pending).toMatchObject({ kind: 'unavailable', failure: 'network' });
    } finally {
      await c.close();
    }
  });
});
