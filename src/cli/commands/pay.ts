/**
 * `x402-gateway pay URL`: a client, built on the official x402 client library, that asks for the
 * price, pays (v2 by default, `--v1` to pay through the v1 body), and prints the status, the body, the
 * settlement receipt and the payer's token balance before and after.
 * Without `--key` it uses devnet key #0, and only when `--rpc` is a loopback anvil.
 */
import { parseArgs } from 'node:util';
import { x402Client, x402HTTPClient } from '@x402/core/client';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import { createPublicClient, erc20Abi, http, isHex, type Address } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ANVIL_PRIVATE_KEYS, assertTestKeyAllowed, isDevnetRpc } from '../../chains/index.js';
import { parsePrice } from '../../pricing/index.js';

export const PAY_USAGE = `usage: x402-gateway pay URL [--key 0x…] [--rpc URL] [--max TOKENS] [--method M] [--data BODY] [--header 'K: V']... [--v1]
  --key K          payer private key (default: devnet key #0, only against a loopback anvil --rpc)
  --rpc URL        chain RPC for balances and the devnet check (default http://127.0.0.1:8545)
  --max TOKENS     refuse to pay more than this many whole tokens of a 6-decimal asset (USDC):
                   "$0.01" or "0.01" is 10000 atomic units; not atomic units ("10000" is 10000 USDC)
  --method M       HTTP method (default GET); the paid retry uses the same method, body and headers
  --data BODY      request body, sent as is (not with GET or HEAD)
  -H, --header 'K: V'
                   a request header; repeat for more
  --v1             pay through the v1 JSON body (X-PAYMENT) instead of the v2 header
`;

/** The flags as asked, or a usage error's message. */
export function requestFlags(values: {
  readonly method: string;
  readonly data?: string | undefined;
  readonly header?: readonly string[] | undefined;
}):
  | { readonly ok: true; readonly init: RequestInit }
  | { readonly ok: false; readonly message: string } {
  const method = values.method.toUpperCase();
  if (!/^[A-Z]+$/.test(method)) {
    return { ok: false, message: `--method "${values.method}" is not an HTTP method (e.g. POST)` };
  }
  if (values.data !== undefined && (method === 'GET' || method === 'HEAD')) {
    return { ok: false, message: `--data needs a method that takes a body: add --method POST` };
  }
  const headers: Array<[string, string]> = [];
  for (const line of values.header ?? []) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || /[\r\n\0]/.test(line)) {
      return { ok: false, message: `--header "${line}" must be "Name: value"` };
    }
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return {
    ok: true,
    init: { method, headers, ...(values.data === undefined ? {} : { body: values.data }) },
  };
}

export async function runPayCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      key: { type: 'string' },
      rpc: { type: 'string', default: 'http://127.0.0.1:8545' },
      max: { type: 'string' },
      v1: { type: 'boolean', default: false },
      method: { type: 'string', default: 'GET' },
      data: { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true },
    },
  });
  const url = positionals[0];
  if (url === undefined) {
    process.stderr.write(PAY_USAGE);
    return 2;
  }
  const request = requestFlags(values);
  if (!request.ok) {
    process.stderr.write(`pay: ${request.message}\n`);
    return 2;
  }
  // Whole tokens of a 6-decimal asset (USDC), checked before anything is sent.
  const max = values.max === undefined ? undefined : parsePrice(values.max, 6);
  if (max !== undefined && !max.ok) {
    process.stderr.write(`pay: --max ${max.message}\n`);
    return 2;
  }
  const rpc = values.rpc;
  let key = values.key;
  if (key === undefined) {
    if (!(await isDevnetRpc(rpc))) {
      process.stderr.write(
        `pay: no --key, and ${rpc} is not a local devnet: refusing to pick a key\n`,
      );
      return 2;
    }
    key = ANVIL_PRIVATE_KEYS[0];
  } else {
    await assertTestKeyAllowed(key, rpc);
  }
  if (!isHex(key) || key.length !== 66) {
    process.stderr.write('pay: --key must be 0x followed by 64 hex digits\n');
    return 2;
  }
  const account = privateKeyToAccount(key);
  const client = new x402HTTPClient(registerExactEvmScheme(new x402Client(), { signer: account }));
  const init = request.init;
  const asked = init.headers as Array<[string, string]>;

  const first = await fetch(url, init);
  if (first.status !== 402) {
    process.stdout.write(`${first.status} (no payment asked)\n${await first.text()}\n`);
    return first.ok ? 0 : 1;
  }
  const body: unknown = await first.json().catch(() => undefined);
  const required = client.getPaymentRequiredResponse(
    (name) => (values.v1 ? null : first.headers.get(name)),
    body,
  );
  const offer = required.accepts[0];
  if (offer === undefined) {
    process.stderr.write('pay: the 402 offers nothing to pay\n');
    return 1;
  }
  const amount = BigInt(
    'amount' in offer
      ? String(offer.amount)
      : String((offer as { maxAmountRequired?: string }).maxAmountRequired),
  );
  process.stdout.write(
    `price: ${amount} atomic units of ${offer.asset} on ${offer.network} to ${offer.payTo} (x402 v${required.x402Version})\n`,
  );
  if (max !== undefined && max.ok) {
    if (amount > max.amount) {
      process.stderr.write(`pay: price ${amount} is over --max ${max.amount}: not paying\n`);
      return 1;
    }
  }
  const chain = createPublicClient({ transport: http(rpc, { timeout: 5000 }) });
  const balance = (): Promise<bigint | undefined> =>
    chain
      .readContract({
        address: offer.asset as Address,
        abi: erc20Abi,
        functionName: 'balanceOf',
        args: [account.address],
      })
      .catch(() => undefined);
  const before = await balance();

  const payload = await client.createPaymentPayload(required);
  const paid = await fetch(url, {
    ...init,
    headers: [...asked, ...Object.entries(client.encodePaymentSignatureHeader(payload))],
  });
  const text = await paid.text();
  process.stdout.write(`status: ${paid.status}\nbody: ${text}\n`);
  const receiptHeader =
    paid.headers.get('payment-response') ?? paid.headers.get('x-payment-response');
  if (receiptHeader !== null) {
    const receipt: unknown = JSON.parse(Buffer.from(receiptHeader, 'base64').toString('utf8'));
    process.stdout.write(`settlement: ${JSON.stringify(receipt)}\n`);
  }
  const after = await balance();
  process.stdout.write(
    `payer ${account.address} balance: ${before ?? '?'} → ${after ?? '?'}` +
      (before !== undefined && after !== undefined ? ` (${after - before})\n` : '\n'),
  );
  return paid.ok ? 0 : 1;
}
