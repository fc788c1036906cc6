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

export const PAY_USAGE = `usage: x402-gateway pay URL [--key 0x…] [--rpc URL] [--max AMOUNT] [--v1] [--method M] [--data BODY]
  --key K      payer private key (default: devnet key #0, only against a loopback anvil --rpc)
  --rpc URL    chain RPC for balances and the devnet check (default http://127.0.0.1:8545)
  --max AMOUNT refuse to pay more than this ("$0.01" or atomic units "10000")
  --v1         pay through the v1 JSON body (X-PAYMENT) instead of the v2 header
`;

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
    },
  });
  const url = positionals[0];
  if (url === undefined) {
    process.stderr.write(PAY_USAGE);
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
  const init: RequestInit = {
    method: values.method,
    ...(values.data === undefined ? {} : { body: values.data }),
  };

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
  if (values.max !== undefined) {
    const max = parsePrice(values.max, 6);
    if (!max.ok) {
      process.stderr.write(`pay: --max ${max.message}\n`);
      return 2;
    }
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
  const paid = await fetch(url, { ...init, headers: client.encodePaymentSignatureHeader(payload) });
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
