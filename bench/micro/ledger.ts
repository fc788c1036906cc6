/**
 * The ledger alone under a paid request's writes: `concurrency` loops, each one payment after
 * another doing what the request path does (begin → change to settled → attempt), against a fresh
 * SQLite file. Prints payments/s and the process's CPU µs per payment (main thread + writer).
 *   node --import tsx bench/micro/ledger.ts [payments=20000] [concurrency=32] [requestPadBytes=900]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteLedger } from '../../src/ledger/index.js';

const total = Number(process.argv[2] ?? 20_000);
const concurrency = Number(process.argv[3] ?? 32);
/** Padding of the stored request (the payment's JSON is ~1–1.5 KB in the gateway). */
const padBytes = Number(process.argv[4] ?? 900);
const dir = mkdtempSync(join(tmpdir(), 'x402-ledger-bench-'));
const ledger = new SqliteLedger({ path: join(dir, 'bench.sqlite') });
await ledger.open();

const request = JSON.stringify({ x402Version: 2, pad: 'x'.repeat(padBytes) });
let next = 0;
async function loop(): Promise<void> {
  while (next < total) {
    const i = next++;
    // Random, as real nonces are: inserts land all over the key index, as they do in production.
    const nonce = `0x${randomBytes(32).toString('hex')}`;
    const key = `84532:0xasset:0xpayer:${nonce}`;
    const facts = {
      key,
      digest: `d${i}`,
      x402Version: 2,
      route: 'GET /paid',
      method: 'GET',
      path: '/paid',
      network: 'eip155:84532',
      asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
      decimals: 6,
      payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
      payer: '0x2222222222222222222222222222222222222222',
      amount: '1000',
      nonce,
      validBefore: 2_000_000_000,
      request,
    };
    const at = Date.now();
    await ledger.begin(facts, at);
    await ledger.change(key, ['settling', 'unknown'], {
      state: 'settled',
      transaction: `0x${'ab'.repeat(32)}`,
    });
    ledger.attempt({
      key,
      requestId: `r${i}`,
      outcome: 'paid',
      status: 200,
      served: true,
      delivered: true,
      startedAt: at,
      endedAt: Date.now(),
    });
  }
}
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, loop));
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
await ledger.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  `${total} payments, ${concurrency} at a time: ${Math.round((total / ms) * 1000)}/s, ` +
    `CPU ${((cpu.user + cpu.system) / total).toFixed(1)} µs/payment ` +
    `(user ${(cpu.user / total).toFixed(1)}, system ${(cpu.system / total).toFixed(1)})`,
);
