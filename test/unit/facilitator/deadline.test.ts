/**
 * The built-in facilitator keeps the gateway's deadlines: against an RPC that answers eth_chainId
 * and then never again, verify and settle come back at their deadline as `unavailable` (timeout),
 * and nothing is broadcast afterwards.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../../../src/facilitator/deadline.js';
import { createLocalFacilitator } from '../../../src/facilitator/deferred.js';
import type { LocalFacilitator } from '../../../src/facilitator/local.js';
import type { FacilitatorRequest } from '../../../src/verify/types.js';
import { buildV2Payload, exampleRequirementV2, testAccount } from '../../helpers/payments.js';

let server: http.Server;
let rpcUrl: string;
const methods: string[] = [];
const hanging = new Set<http.ServerResponse>();
let facilitator: LocalFacilitator;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const call = JSON.parse(body) as { id: number; method: string };
      methods.push(call.method);
      if (call.method === 'eth_chainId') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: call.id, result: '0x14a34' })); // 84532
      } else {
        hanging.add(res); // a stuck node: never answers
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  rpcUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  facilitator = await createLocalFacilitator({
    rpcUrl,
    privateKey: `0x${'42'.repeat(32)}`, // not a test key: no devnet check
    verifyTimeoutMs: 200,
    settleTimeoutMs: 300,
    receiptTimeoutMs: 100,
    rpcTimeoutMs: 5_000,
  });
});

afterAll(async () => {
  await facilitator?.close();
  for (const res of hanging) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function request(): Promise<FacilitatorRequest> {
  const requirements = exampleRequirementV2();
  const payload = await buildV2Payload(requirements, { account: testAccount(1) });
  return { x402Version: 2, paymentPayload: payload, paymentRequirements: requirements };
}

describe('built-in facilitator deadlines', () => {
  it('verify answers unavailable (timeout) at verifyTimeoutMs', async () => {
    const started = Date.now();
    const answer = await facilitator.verify(await request());
    const took = Date.now() - started;
    expect(answer).toMatchObject({ kind: 'unavailable', failure: 'timeout' });
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1_500);
  });

  it('settle answers unavailable (timeout) at settleTimeoutMs and never broadcasts later', async () => {
    const started = Date.now();
    const answer = await facilitator.settle(await request());
    const took = Date.now() - started;
    expect(answer).toMatchObject({ kind: 'unavailable', failure: 'timeout' });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_500);
    // Unstick the node: the abandoned settle must not go on to send a transaction.
    for (const res of hanging) res.destroy();
    hanging.clear();
    await new Promise((r) => setTimeout(r, 300));
    expect(methods).not.toContain('eth_sendRawTransaction');
    expect(methods).not.toContain('eth_sendTransaction');
  });
});

describe('within', () => {
  it('passes the value or the rejection that comes first, or says late', async () => {
    await expect(within(50, Promise.resolve(1))).resolves.toEqual({ kind: 'done', value: 1 });
    await expect(within(undefined, Promise.resolve(2))).resolves.toEqual({
      kind: 'done',
      value: 2,
    });
    await expect(within(50, Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const slow = new Promise((_, reject) => setTimeout(() => reject(new Error('too late')), 80));
    await expect(within(10, slow)).resolves.toEqual({ kind: 'late' });
    await new Promise((r) => setTimeout(r, 100)); // the late rejection is not unhandled
  });
});
