/**
 * `x402-gateway [start] --config FILE [--ledger PATH]`: load the config, start the gateway, serve until
 * SIGTERM/SIGINT, then drain in-flight requests and settlements and exit 0 (1 after a fault).
 */
import { resolve } from 'node:path';
import { startGateway, type RunningGateway } from '../../server.js';
import { ledgerFlag } from '../flags.js';
import { loadConfigArg } from '../config-arg.js';
import { isFault, SIGHUP_IGNORED, waitForStop } from '../stop-signal.js';

export async function runStartCommand(args: readonly string[]): Promise<number> {
  const loaded = await loadConfigArg('start', args, undefined, { withLedger: true });
  if (!loaded.ok) return loaded.exitCode;
  const ledger = ledgerFlag(args);
  if (ledger !== undefined && loaded.config.ledger === false) {
    process.stderr.write(
      `start: --ledger ${ledger} contradicts ledger: false in ${loaded.path}: drop one of them\n`,
    );
    return 2;
  }
  // --ledger PATH puts the book where a deployment keeps its data (the Docker image: /data).
  const config =
    ledger === undefined || loaded.config.ledger === false
      ? loaded.config
      : {
          ...loaded.config,
          ledger: { ...loaded.config.ledger, sqlite: { path: resolve(ledger) } },
        };
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(config);
  } catch (error) {
    // e.g. an anvil test key pointed at a real chain, an RPC that does not answer, a port in use.
    process.stderr.write(
      `x402-gateway: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  process.stdout.write(`x402-gateway listening on ${gateway.url} (admin ${gateway.adminUrl})\n`);
  const log = gateway.log;
  const stoppedBy = await waitForStop(
    undefined,
    (fault, error) => {
      log.error(
        { fault, err: error },
        'bug: a fault escaped every handler; draining in-flight requests, then exiting',
      );
    },
    () => log.warn({ signal: 'SIGHUP' }, SIGHUP_IGNORED),
  );
  log.info({ signal: stoppedBy }, 'shutting down');
  try {
    await gateway.close();
    return isFault(stoppedBy) ? 1 : 0;
  } catch {
    return 1;
  }
}
