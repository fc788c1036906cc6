/**
 * `x402-gateway facilitator --rpc URL --key KEY [--port N] [--host H]`: serve the built-in
 * facilitator over HTTP until SIGINT/SIGTERM. The key may instead come from the environment
 * variable named by `--key-env` (default X402_FACILITATOR_KEY), which keeps it out of `ps`.
 */
import { parseArgs } from 'node:util';
import { createLocalFacilitator, startFacilitatorServer } from '../../facilitator/index.js';
import { intFlag } from '../flags.js';
import { waitForStop } from '../stop-signal.js';

export const FACILITATOR_USAGE = `usage: x402-gateway facilitator --rpc URL (--key 0xKEY | env X402_FACILITATOR_KEY) [options]
  --rpc URL                 JSON-RPC endpoint of the chain to settle on
  --key 0xKEY               settler private key (pays gas); prefer --key-env
  --key-env NAME            read the key from env NAME (default X402_FACILITATOR_KEY)
  --port N                  listen port (default 4021; 0 = any free port)
  --host H                  listen address (default 127.0.0.1)
  --network NAME            network to serve (v1 name or CAIP-2), repeatable; default: the RPC's chain
  --receipt-timeout-ms N    receipt wait before answering settlement_pending (default 60000)
`;

export interface FacilitatorCommandIo {
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  /** Stops the server when aborted (tests); SIGINT/SIGTERM always do. */
  readonly signal?: AbortSignal;
  /** Called once listening (tests). */
  readonly onListening?: (url: string) => void;
  readonly env?: NodeJS.ProcessEnv;
}

/** Run the command; resolves with the exit code (0 after a clean shutdown, 2 on usage errors, 1 on failure). */
export async function runFacilitatorCommand(
  argv: string[],
  io: FacilitatorCommandIo = {},
): Promise<number> {
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  let opts: {
    rpc: string;
    key: string;
    port: number;
    host: string;
    networks: string[] | undefined;
    receiptTimeoutMs: number;
  };
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        rpc: { type: 'string' },
        key: { type: 'string' },
        'key-env': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        network: { type: 'string', multiple: true },
        'receipt-timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      out.write(FACILITATOR_USAGE);
      return 0;
    }
    if (!values.rpc) throw new Error('--rpc is required');
    const key = values.key ?? env[values['key-env'] ?? 'X402_FACILITATOR_KEY'];
    if (!key)
      throw new Error(`--key or env ${values['key-env'] ?? 'X402_FACILITATOR_KEY'} is required`);
    opts = {
      rpc: values.rpc,
      key,
      port: intFlag(values.port, 'port', 4021, 0, 65535),
      host: values.host ?? '127.0.0.1',
      networks: values.network,
      receiptTimeoutMs: intFlag(
        values['receipt-timeout-ms'],
        'receipt-timeout-ms',
        60_000,
        100,
        3_600_000,
      ),
    };
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${FACILITATOR_USAGE}`);
    return 2;
  }

  let facilitator;
  let server;
  try {
    facilitator = await createLocalFacilitator({
      rpcUrl: opts.rpc,
      privateKey: opts.key,
      receiptTimeoutMs: opts.receiptTimeoutMs,
      ...(opts.networks ? { networks: opts.networks } : {}),
    });
    server = await startFacilitatorServer({ facilitator, host: opts.host, port: opts.port });
  } catch (e) {
    await facilitator?.close();
    err.write(`facilitator failed to start: ${(e as Error).message}\n`);
    return 1;
  }
  out.write(
    `facilitator listening on ${server.url} (chain ${facilitator.chainId}, settler ${facilitator.settlerAddress}, ` +
      `networks ${[...facilitator.networks.v2, ...facilitator.networks.v1].join(', ')})\n`,
  );
  io.onListening?.(server.url);

  await waitForStop(io.signal);
  await server.close();
  await facilitator.close();
  return 0;
}
