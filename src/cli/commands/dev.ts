/**
 * `x402-gateway dev` (what `npm start` runs): the whole money path on loopback, offline — an anvil
 * devnet (chain id 84532) with the EIP-3009 USDC, a demo upstream, and the gateway on
 * config/dev.yaml, which settles through the built-in facilitator in-process (`facilitator.local`).
 * Ctrl-C stops everything it started.
 * DEV ONLY: every key involved is a public anvil test key.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatProblems, loadConfigFile, type GatewayConfig } from '../../config/index.js';
import { createConfigReloader } from '../config-reloader.js';
import { startDevnet, type Devnet } from '../../devnet/index.js';
import { startGateway } from '../../server.js';
import { startDemoUpstream } from '../../dev/index.js';
import { intFlag } from '../flags.js';
import { isFault, waitForStop } from '../stop-signal.js';

export const DEV_USAGE = `usage: x402-gateway dev [--config FILE] [--anvil-port N] [--upstream-port N] [--ledger PATH]
  Starts anvil (chain 84532) + a demo upstream + the gateway (config/dev.yaml) with the built-in
  facilitator in-process. For the facilitator over HTTP: x402-gateway devnet --facilitator-port N.
  The ledger is a fresh file in a temporary folder for each run (printed), unless --ledger PATH.
`;

/** anvil account that receives the payments; #9 settles, #0–#7 pay. */
const PAY_TO_INDEX = 8;
const SETTLER_INDEX = 9;

export async function runDevCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      'anvil-port': { type: 'string' },
      'upstream-port': { type: 'string' },
      ledger: { type: 'string' },
    },
    strict: true,
  });
  const anvilPort = intFlag(values['anvil-port'], 'anvil-port', 8545, 0, 65535);
  const upstreamPort = intFlag(values['upstream-port'], 'upstream-port', 3000, 0, 65535);
  const configPath =
    values.config ?? fileURLToPath(new URL('../../../config/dev.yaml', import.meta.url));
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const devnet: Devnet = await startDevnet({ chainId: 84532, port: anvilPort });
    stops.push(() => devnet.stop());
    const settler = devnet.accounts[SETTLER_INDEX]!;
    const payTo = devnet.accounts[PAY_TO_INDEX]!.address;
    const upstream = await startDemoUpstream(upstreamPort);
    stops.push(() => upstream.close());

    const env = {
      ...process.env,
      DEV_RPC_URL: devnet.rpcUrl,
      DEV_SETTLER_KEY: settler.privateKey,
      DEV_PAY_TO: payTo,
      DEV_UPSTREAM_URL: upstream.url,
    };
    const loaded = await loadConfigFile(configPath, env);
    if (!loaded.ok) {
      process.stderr.write(`${formatProblems(loaded.problems, configPath)}\n`);
      await stopAll();
      return 1;
    }
    // Each run starts a fresh book (the devnet is fresh too), unless --ledger names one to keep.
    const ledgerPath =
      values.ledger ?? join(mkdtempSync(join(tmpdir(), 'x402-dev-')), 'x402-ledger.sqlite');
    const withLedger = (c: GatewayConfig): GatewayConfig =>
      c.ledger === false
        ? c
        : { ...c, ledger: { ...c.ledger, postgres: undefined, sqlite: { path: ledgerPath } } };
    const config = withLedger(loaded.config);
    const gateway = await startGateway(config);
    stops.push(() => gateway.close());
    // SIGHUP reloads the config file as it was loaded here (a price tried out without a restart).
    const reloader = createConfigReloader({
      path: configPath,
      load: async () => {
        const result = await loadConfigFile(configPath, env);
        return result.ok ? { ok: true, config: withLedger(result.config) } : result;
      },
      running: gateway,
      log: gateway.log,
    });

    process.stdout.write(
      [
        '',
        'x402-gateway dev: everything on loopback, offline (DEV ONLY: public anvil test keys)',
        `  gateway      ${gateway.url}   (admin ${gateway.adminUrl}/metrics)`,
        `  devnet       ${devnet.rpcUrl}   chain 84532, USDC ${devnet.usdc}`,
        `  facilitator  built-in, in-process (settler ${settler.address})`,
        `  upstream     ${upstream.url}   (demo API)`,
        `  payTo        ${payTo}`,
        `  ledger       ${config.ledger === false ? 'none (ledger: false)' : ledgerPath}`,
        '',
        'Pay for a call (devnet key #0):',
        `  npx x402-gateway pay "${gateway.url}/v1/quote?sym=ETH" --rpc ${devnet.rpcUrl}`,
        `  curl -i ${gateway.url}/v1/quote        # the 402 challenge`,
        '',
        'Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
    const stoppedBy = await waitForStop(
      undefined,
      (fault, error) => {
        const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
        process.stderr.write(`x402-gateway dev: bug: ${fault}, stopping everything: ${why}\n`);
      },
      () => void reloader.reload('SIGHUP'),
    );
    reloader.stop();
    await stopAll();
    return isFault(stoppedBy) ? 1 : 0;
  } catch (error) {
    process.stderr.write(
      `x402-gateway dev: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await stopAll();
    return 1;
  }
}
