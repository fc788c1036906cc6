/**
 * The pool of pre-signed payments: real EIP-712 EIP-3009 TransferWithAuthorization signatures
 * (viem signTypedData), one random nonce each, signed in worker threads before any load starts,
 * cached in bench/results/ keyed by the signing parameters and reused while still valid.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { recoverTypedDataAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { TRANSFER_WITH_AUTHORIZATION_TYPES } from '../test/helpers/eip3009.js';
import { AMOUNT, DOMAIN, PAYER_KEY, PAY_TO } from './constants.js';

const RECORD = 97; // 32-byte nonce + 65-byte signature

export interface PaymentPool {
  readonly from: string;
  readonly to: string;
  readonly value: string;
  readonly validAfter: string;
  readonly validBefore: string;
  readonly count: number;
  nonce(i: number): string;
  signature(i: number): string;
}

interface Meta {
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly value: string;
  readonly validAfter: string;
  readonly validBefore: string;
  readonly count: number;
}

function makePool(meta: Meta, records: Buffer): PaymentPool {
  return {
    ...meta,
    nonce: (i) => `0x${records.toString('hex', i * RECORD, i * RECORD + 32)}`,
    signature: (i) => `0x${records.toString('hex', i * RECORD + 32, (i + 1) * RECORD)}`,
  };
}

function signChunk(data: Record<string, unknown>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./sign-worker.mjs', import.meta.url), {
      // The worker is plain JS: it gets the one typed-data definition from here.
      workerData: { ...data, types: TRANSFER_WITH_AUTHORIZATION_TYPES },
    });
    w.once('message', (ab: ArrayBuffer) => resolve(Buffer.from(ab)));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`sign worker exited with ${code}`));
    });
  });
}

export interface PoolOptions {
  readonly count: number;
  readonly workers: number;
  readonly validSeconds: number;
  /** Reuse a cached pool only if it stays valid at least this long. */
  readonly minRemainingSeconds: number;
  readonly cacheDir: string;
}

/** Load the cached pool for these parameters, or sign a new one. */
export async function loadOrSignPool(opts: PoolOptions): Promise<PaymentPool> {
  const from = privateKeyToAccount(PAYER_KEY).address;
  const key = createHash('sha256')
    .update(
      JSON.stringify({ from, to: PAY_TO, value: AMOUNT, domain: DOMAIN, count: opts.count, v: 1 }),
    )
    .digest('hex')
    .slice(0, 16);
  const bin = path.join(opts.cacheDir, `payments-${key}.bin`);
  const metaFile = `${bin.slice(0, -4)}.json`;
  const now = Math.floor(Date.now() / 1000);
  try {
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as Meta;
    const records = fs.readFileSync(bin);
    if (
      meta.key === key &&
      records.length === meta.count * RECORD &&
      Number(meta.validBefore) - now >= opts.minRemainingSeconds
    ) {
      console.log(
        `[bench] using ${meta.count} cached signed payments (${path.relative(process.cwd(), bin)})`,
      );
      return makePool(meta, records);
    }
  } catch {
    // no usable cache
  }

  // validAfter a little in the past (clock skew), validBefore far enough to outlive the run.
  const meta: Meta = {
    key,
    from,
    to: PAY_TO,
    value: AMOUNT,
    validAfter: String(now - 600),
    validBefore: String(now + opts.validSeconds),
    count: opts.count,
  };
  const workers = Math.max(1, Math.min(opts.workers, Math.ceil(opts.count / 500)));
  const per = Math.ceil(opts.count / workers);
  const t0 = Date.now();
  console.log(`[bench] signing ${opts.count} payments in ${workers} worker thread(s)…`);
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) =>
      signChunk({
        privateKey: PAYER_KEY,
        domain: DOMAIN,
        to: meta.to,
        value: meta.value,
        validAfter: meta.validAfter,
        validBefore: meta.validBefore,
        count: Math.max(0, Math.min(per, opts.count - w * per)),
      }),
    ),
  );
  const records = Buffer.concat(parts);
  const pool = makePool(meta, records);
  await selfCheck(pool);
  console.log(`[bench] signed ${opts.count} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  fs.mkdirSync(opts.cacheDir, { recursive: true });
  fs.writeFileSync(`${bin}.tmp`, records);
  fs.renameSync(`${bin}.tmp`, bin);
  fs.writeFileSync(metaFile, JSON.stringify(meta, null, 2));
  return pool;
}

/** Recover the signer of the first payment and check every nonce is distinct. */
async function selfCheck(pool: PaymentPool): Promise<void> {
  const signer = await recoverTypedDataAddress({
    domain: DOMAIN,
    types: TRANSFER_WITH_AUTHORIZATION_TYPES,
    primaryType: 'TransferWithAuthorization',
    message: {
      from: pool.from as `0x${string}`,
      to: pool.to as `0x${string}`,
      value: BigInt(pool.value),
      validAfter: BigInt(pool.validAfter),
      validBefore: BigInt(pool.validBefore),
      nonce: pool.nonce(0) as `0x${string}`,
    },
    signature: pool.signature(0) as `0x${string}`,
  });
  if (signer.toLowerCase() !== pool.from.toLowerCase())
    throw new Error('signed pool: signature does not recover to the payer');
  const seen = new Set<string>();
  for (let i = 0; i < pool.count; i++) seen.add(pool.nonce(i));
  if (seen.size !== pool.count) throw new Error('signed pool: duplicate nonces');
}
