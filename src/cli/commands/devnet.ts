/**
 * "Start the devnet and print its details" (for `npm start`-style local development):
 *
 *   x402-gateway devnet [--chain base-sepolia|base|84532|8453] [--port 8545] [--block-time S]
 *                       [--facilitator-port N] [--json]
 *
 * Starts anvil with the EIP-3009 USDC and Multicall3, optionally the built-in facilitator over HTTP
 * (settling with anvil account #9), prints everything a config needs, and runs until SIGINT/SIGTERM
 * (or `signal` aborts). DEV ONLY: the printed keys are the public anvil keys.
 */
import { parseArgs } from 'node:util';
import {
  createLocalFacilitator,
  type FacilitatorServer,
  startFacilitatorServer,
} from '../../facilitator/index.js';
import { startDevnet, type Devnet, type DevnetChainId } from '../../devnet/index.js';
import { intFlag } from '../flags.js';
import { waitForStop } from '../stop-signal.js';

export const DEVNET_USAGE = `usage: x402-gateway devnet [options]
  --chain NAME             base-sepolia (default), base, 84532 or 8453
  --port N                 anvil port on 127.0.0.1 (default 8545; 0 = any free port)
  --block-time S           seconds per block (default: a block per transaction)
  --facilitator-port N     also serve the built-in facilitator on 127.0.0.1:N (settler = account #9)
  --json                   print the details as one JSON line
`;

/** Account that settles for the devnet facilitator (payers use the others). */
export const DEVNET_SETTLER_INDEX = 9;

export interface DevnetDetails {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly network: { readonly caip2: string; readonly v1Name: string };
  readonly usdc: {
    readonly address: string;
    readonly name: string;
    readonly version: string;
    readonly decimals: number;
  };
  readonly multicall3: string;
  readonly facilitatorUrl?: string;
  readonly settler?: string;
  readonly accounts: ReadonlyArray<{ readonly address: string; readonly privateKey: string }>;
}

export interface DevnetCommandIo {
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream;
  readonly signal?: AbortSignal;
  readonly onReady?: (details: DevnetDetails) => void;
}

function parseChain(v: string | undefined): DevnetChainId {
  switch (v ?? 'base-sepolia') {
    case 'base-sepolia':
    case 'eip155:84532':
    case '84532':
      return 84532;
    case 'base':
    case 'eip155:8453':
    case '8453':
      return 8453;
    default:
      throw new Error(`--chain must be base-sepolia or base, not "${v}"`);
  }
}

/** Details of a running devnet (plus facilitator) as printed by the command. */
export function describeDevnet(
  devnet: Devnet,
  facilitator?: { url: string; settler: string },
): DevnetDetails {
  const usdc = devnet.network.usdc!;
  return {
    rpcUrl: devnet.rpcUrl,
    chainId: devnet.chainId,
    network: { caip2: devnet.network.caip2, v1Name: devnet.network.v1Name },
    usdc: {
      address: usdc.address,
      name: usdc.name,
      version: usdc.version,
      decimals: usdc.decimals,
    },
    multicall3: devnet.multicall3,
    ...(facilitator ? { facilitatorUrl: facilitator.url, settler: facilitator.settler } : {}),
    accounts: devnet.accounts.map((a) => ({ address: a.address, privateKey: a.privateKey })),
  };
}

function humanReadable(d: DevnetDetails): string {
  const lines = [
    `devnet ready (DEV ONLY — public anvil keys)`,
    `  rpc          ${d.rpcUrl}`,
    `  chain        ${d.chainId} (${d.network.caip2}, v1 "${d.network.v1Name}")`,
    `  usdc         ${d.usdc.address} name "${d.usdc.name}" version "${d.usdc.version}" (EIP-3009 test token)`,
    `  multicall3   ${d.multicall3}`,
  ];
  if (d.facilitatorUrl) lines.push(`  facilitator  ${d.facilitatorUrl} (settler ${d.settler})`);
  lines.push('  accounts (10,000 ETH and 1,000,000 USDC each):');
  d.accounts.forEach((a, i) => lines.push(`    #${i} ${a.address} ${a.privateKey}`));
  return lines.join('\n') + '\n';
}

/** Run the command; resolves with the exit code (0 after a clean stop, 2 usage, 1 failure). */
export async function runDevnetCommand(argv: string[], io: DevnetCommandIo = {}): Promise<number> {
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  let chainId: DevnetChainId;
  let port: number;
  let blockTime: number | undefined;
  let facilitatorPort: number | undefined;
  let json = false;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        chain: { type: 'string' },
        port: { type: 'string' },
        'block-time': { type: 'string' },
        'facilitator-port': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      out.write(DEVNET_USAGE);
      return 0;
    }
    chainId = parseChain(values.chain);
    port = intFlag(values.port, 'port', 8545, 0, 65535);
    blockTime = intFlag(values['block-time'], 'block-time', undefined, 0, 3600);
    facilitatorPort = intFlag(values['facilitator-port'], 'facilitator-port', undefined, 0, 65535);
    json = values.json ?? false;
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${DEVNET_USAGE}`);
    return 2;
  }

  let devnet: Devnet | undefined;
  let server: FacilitatorServer | undefined;
  let closeFacilitator: (() => Promise<void>) | undefined;
  try {
    devnet = await startDevnet({ chainId, port, ...(blockTime ? { blockTime } : {}) });
    let fac: { url: string; settler: string } | undefined;
    if (facilitatorPort !== undefined) {
      const settler = devnet.accounts[DEVNET_SETTLER_INDEX]!;
      const facilitator = await createLocalFacilitator({
        rpcUrl: devnet.rpcUrl,
        privateKey: settler.privateKey,
      });
      closeFacilitator = () => facilitator.close();
      server = await startFacilitatorServer({
        facilitator,
        host: '127.0.0.1',
        port: facilitatorPort,
      });
      fac = { url: server.url, settler: settler.address };
    }
    const details = describeDevnet(devnet, fac);
    out.write(json ? JSON.stringify(details) + '\n' : humanReadable(details));
    io.onReady?.(details);
  } catch (e) {
    err.write(`devnet failed to start: ${(e as Error).message}\n`);
    await server?.close();
    await closeFacilitator?.();
    await devnet?.stop();
    return 1;
  }

  await waitForStop(io.signal);
  await server?.close();
  await closeFacilitator?.();
  await devnet.stop();
  return 0;
}
