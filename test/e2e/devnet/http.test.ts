/**
 * The facilitator HTTP server over loopback: same answers as in-process, spec'd error handling,
 * and the OFFICIAL @x402/core HTTPFacilitatorClient can use it.
 */
import { HTTPFacilitatorClient } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { describe, expect, it } from 'vitest';
import { runFacilitatorCommand } from '../../../src/cli/commands/facilitator.js';
import {
  SETTLER_INDEX,
  account,
  balanceOf,
  freshAddress,
  paymentV2,
  requestV1,
  requirementsV1,
  signDevnetAuthorization,
  useDevnet,
} from '../../helpers/devnet.js';

const net = useDevnet({ chainId: 84532, facilitator: { http: true } });

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${net.facilitatorServer.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('facilitator HTTP server', () => {
  it('GET /supported lists v1 and v2 kinds and the signer', async () => {
    const res = await fetch(`${net.facilitatorServer.url}/supported`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as {
      kinds: unknown[];
      signers: Record<string, string[]>;
      extensions: unknown[];
    };
    expect(body.kinds).toEqual([
      { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
      { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
    ]);
    expect(body.signers['eip155:*']).toEqual([account(net.devnet, SETTLER_INDEX).address]);
    expect(body.extensions).toEqual([]);
  });

  it('POST /verify and /settle give the same answers as in-process, then the nonce reason on replay', async () => {
    const payer = account(net.devnet, 1);
    const payTo = freshAddress();
    const { request } = await paymentV2(net.devnet, payer, payTo, 4_321n);
    expect(await post('/verify', request)).toEqual({
      status: 200,
      body: { isValid: true, payer: payer.address },
    });
    const settled = await post('/settle', request);
    expect(settled.status).toBe(200);
    expect(settled.body).toMatchObject({
      success: true,
      network: 'eip155:84532',
      payer: payer.address,
    });
    expect(settled.body['transaction']).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await balanceOf(net.devnet, payTo)).toBe(4_321n);
    const replay = await post('/settle', request);
    expect(replay).toMatchObject({
      status: 200,
      body: {
        success: false,
        errorReason: 'invalid_exact_evm_nonce_already_used',
        transaction: '',
      },
    });
    expect(await balanceOf(net.devnet, payTo)).toBe(4_321n);
  });

  it('serves v1 requests', async () => {
    const payTo = freshAddress();
    const signed = await signDevnetAuthorization(net.devnet, account(net.devnet, 2), {
      to: payTo,
      value: 50n,
    });
    const request = requestV1(requirementsV1(net.devnet, payTo, 50n), signed);
    expect((await post('/verify', request)).body).toMatchObject({ isValid: true });
    expect((await post('/settle', request)).body).toMatchObject({
      success: true,
      network: 'base-sepolia',
    });
    expect(await balanceOf(net.devnet, payTo)).toBe(50n);
  });

  it('answers 400 with a reason for bad JSON and malformed envelopes, 413 past the cap, 404/405 otherwise', async () => {
    expect(await post('/verify', '{"x402Version":')).toMatchObject({
      status: 400,
      body: { error: 'invalid_json' },
    });
    expect(await post('/verify', '[]')).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', detail: 'body must be a JSON object' },
    });
    expect(
      await post('/settle', { x402Version: 7, paymentPayload: {}, paymentRequirements: {} }),
    ).toMatchObject({
      status: 400,
      body: { error: 'invalid_request', detail: 'x402Version must be 1 or 2' },
    });
    expect(await post('/verify', { x402Version: 2, paymentPayload: {} })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    const big = JSON.stringify({ x402Version: 2, pad: 'x'.repeat(70 * 1024) });
    const tooBig = await fetch(`${net.facilitatorServer.url}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(tooBig.status).toBe(413);
    expect((await fetch(`${net.facilitatorServer.url}/nope`)).status).toBe(404);
    expect((await fetch(`${net.facilitatorServer.url}/verify`)).status).toBe(405);
    const text = await fetch(`${net.facilitatorServer.url}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(text.status).toBe(415);
    // Well-formed envelope, semantically bad payload: a structured refusal (200), as in-process.
    const { request } = await paymentV2(net.devnet, account(net.devnet, 3), freshAddress(), 1n);
    const bad = JSON.parse(JSON.stringify(request)) as {
      paymentPayload: { payload: { signature: string } };
    };
    bad.paymentPayload.payload.signature = 'nope';
    expect(await post('/verify', bad)).toMatchObject({
      status: 200,
      body: { isValid: false, invalidReason: 'invalid_payload' },
    });
  });

  it('is usable by the official @x402/core HTTPFacilitatorClient', async () => {
    const client = new HTTPFacilitatorClient({
      url: net.facilitatorServer.url + '/',
      timeoutMs: 10_000,
    });
    const supported = await client.getSupported();
    expect(supported.kinds.map((k) => `${k.x402Version}:${k.network}`)).toEqual([
      '2:eip155:84532',
      '1:base-sepolia',
    ]);
    const payTo = freshAddress();
    const { request } = await paymentV2(net.devnet, account(net.devnet, 4), payTo, 99n);
    const payload = request.paymentPayload as PaymentPayload;
    const reqs = request.paymentRequirements as unknown as PaymentRequirements;
    expect(await client.verify(payload, reqs)).toMatchObject({ isValid: true });
    expect(await client.settle(payload, reqs)).toMatchObject({ success: true });
    expect(await balanceOf(net.devnet, payTo)).toBe(99n);
  });

  it('the facilitator CLI command serves the same API and stops cleanly', async () => {
    const abort = new AbortController();
    let url = '';
    const out: string[] = [];
    const stdout = {
      write: (s: string) => (out.push(s), true),
    } as unknown as NodeJS.WritableStream;
    const exit = runFacilitatorCommand(
      [
        '--rpc',
        net.devnet.rpcUrl,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--receipt-timeout-ms',
        '5000',
      ],
      {
        stdout,
        signal: abort.signal,
        env: { X402_FACILITATOR_KEY: account(net.devnet, 7).privateKey },
        onListening: (u) => (url = u),
      },
    );
    await expect.poll(() => url, { timeout: 10_000 }).not.toBe('');
    const res = await fetch(`${url}/supported`);
    expect(res.status).toBe(200);
    expect(out.join('')).toContain(`settler ${account(net.devnet, 7).address}`);
    abort.abort();
    expect(await exit).toBe(0);
  });

  it('the facilitator CLI refuses bad arguments with usage (exit 2)', async () => {
    const err: string[] = [];
    const stderr = {
      write: (s: string) => (err.push(s), true),
    } as unknown as NodeJS.WritableStream;
    expect(await runFacilitatorCommand(['--port', '1'], { stderr, env: {} })).toBe(2);
    expect(err.join('')).toContain('--rpc is required');
    expect(await runFacilitatorCommand(['--rpc', net.devnet.rpcUrl], { stderr, env: {} })).toBe(2);
    expect(
      await runFacilitatorCommand(['--rpc', net.devnet.rpcUrl, '--bogus'], { stderr, env: {} }),
    ).toBe(2);
  });
});
