/**
 * `x402-gateway pay` with a method, a body and headers: the paid retry sends them as asked.
 */
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestFlags, runPayCommand } from '../../src/cli/commands/pay.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { captureOutput } from '../helpers/capture-output.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

async function pay(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await captureOutput(() => runPayCommand(args));
  return { code, out: stdout, err: stderr };
}

describe('pay', () => {
  it('pays a POST with its body and headers, sent again on the paid retry', async () => {
    // A key of its own (the anvil test keys are refused away from a devnet); no RPC: balances "?".
    const r = await pay([
      `${h.url}/v1/vision`,
      '--key',
      generatePrivateKey(),
      '--rpc',
      'http://127.0.0.1:9',
      '--method',
      'post',
      '--data',
      '{"image":"cat.png"}',
      '--header',
      'content-type: application/json',
      '-H',
      'x-trace: abc',
      '--max',
      '$0.01',
    ]);
    expect(r.err).toBe('');
    expect(r.out).toContain('status: 200');
    const paid = h.upstream.calls.at(-1)!;
    expect(paid.method).toBe('POST');
    expect(paid.body).toBe('{"image":"cat.png"}');
    expect(paid.headers['x-trace']).toBe('abc');
    expect(paid.headers['content-type']).toBe('application/json');
    expect(r.code).toBe(0);
  });

  it('--max is whole tokens: a price over it is not paid', async () => {
    const before = h.facilitator.calls.settle;
    const r = await pay([
      `${h.url}/v1/vision`,
      '--key',
      generatePrivateKey(),
      '--rpc',
      'http://127.0.0.1:9',
      '--method',
      'POST',
      '--max',
      '0.001', // the route costs $0.01 = 10000 atomic units
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('price 10000 is over --max 1000: not paying');
    expect(h.facilitator.calls.settle).toBe(before);
  });

  it('refuses bad request flags before sending anything', () => {
    expect(requestFlags({ method: 'GET', data: 'x' })).toEqual({
      ok: false,
      message: '--data needs a method that takes a body: add --method POST',
    });
    expect(requestFlags({ method: 'P OST' })).toMatchObject({ ok: false });
    expect(requestFlags({ method: 'GET', header: ['no colon'] })).toEqual({
      ok: false,
      message: '--header "no colon" must be "Name: value"',
    });
  });
});
