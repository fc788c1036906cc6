/**
 * The official v1 client (x402-fetch), installed in its own package folder, test/e2e/v1-client, so
 * its dependencies never mix with the gateway's. Loaded at run time by the e2e tests that pay with it.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Address, Hex } from 'viem';

/** The part of x402-fetch's API the tests use. */
export interface V1FetchModule {
  wrapFetchWithPayment(
    fetchFn: typeof fetch,
    signer: unknown,
    maxValue?: bigint,
  ): (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  createSigner(network: string, privateKey: Hex): Promise<unknown>;
  decodeXPaymentResponse(header: string): {
    success: boolean;
    transaction: Hex;
    network: string;
    payer: Address;
  };
}

const V1_CLIENT_DIR = fileURLToPath(new URL('../e2e/v1-client/', import.meta.url));

/** Load `x402-fetch` from test/e2e/v1-client/node_modules, or say how to install it. */
export async function loadV1Client(): Promise<V1FetchModule> {
  let entry: string;
  try {
    entry = createRequire(`${V1_CLIENT_DIR}package.json`).resolve('x402-fetch');
  } catch {
    throw new Error(
      'x402-fetch is not installed: run `npm ci --prefix test/e2e/v1-client --no-audit --no-fund` (CI does)',
    );
  }
  // require.resolve picks the CommonJS entry; the package's ESM build sits next to it.
  const esm = entry.replace(/[\\/]cjs[\\/]index\.js$/, '/esm/index.mjs');
  return (await import(pathToFileURL(esm).href)) as V1FetchModule;
}
