/**
 * `x402-gateway [start] --config FILE [--ledger PATH] [--watch]`: load the config, start the
 * gateway, serve until SIGTERM/SIGINT, then drain in-flight requests and settlements and exit 0
 * (1 after a fault). SIGHUP (and with `--watch` a change to the file) reloads the config.
 */
import cluster from 'node:cluster';
import { resolve } from 'node:path';
import { loadConfigFile, type ConfigResult, type GatewayConfig } from '../../config/index.js';
import { startGateway, type RunningGateway } from '../../server.js';
import { createLogger } from '../../log/index.js';
import { ledgerFlag, watchFlag } from '../flags.js';
import { loadConfigArg } from '../config-arg.js';
import { createConfigReloader } from '../config-reloader.js';
import { isFault, waitForStop } from '../stop-signal.js';
import { runPrimary, WORKER_INDEX_ENV } from '../cluster/primary.js';
import { answerPrimary, send as sendToPrimary } from '../cluster/worker.js';

export async function runStartCommand(args: readonly string[]): Promise<number> {
  // From the first moment: node's default for SIGHUP is to die, and a reload signal sent while
  // the gateway starts must not kill it. It is taken once the gateway serves (the file may be new).
  let hangupWhileStarting = false;
  const onEarlyHangup = (): void => {
    hangupWhileStarting = true;
  };
  process.on('SIGHUP', onEarlyHangup);
  const early = {
    /** Stop listening early; true if a SIGHUP came meanwhile. */
    end: (): boolean => {
      process.off('SIGHUP', onEarlyHangup);
      return hangupWhileStarting;
    },
  };
  try {
    return await start(args, early);
  } finally {
    early.end();
  }
}

async function start(args: readonly string[], early: { end(): boolean }): Promise<number> {
  const loaded = await loadConfigArg('start', args, undefined, { withLedger: true });
  if (!loaded.ok) return loaded.exitCode;
  const ledger = ledgerFlag(args);
  if (ledger !== undefined && loaded.config.ledger === false) {
    process.stderr.write(
      `start: --ledger ${ledger} contradicts ledger: false in ${loaded.path}: drop one of them\n`,
    );
    return 2;
  }
  if (
    ledger !== undefined &&
    loaded.config.ledger !== false &&
    loaded.config.ledger.postgres !== undefined
  ) {
    process.stderr.write(
      `start: --ledger ${ledger} (a SQLite file) contradicts ledger.postgres in ${loaded.path}: drop one of them\n`,
    );
    return 2;
  }
  const workers = loaded.config.server.workers;
  if (ledger !== undefined && workers > 1) {
    process.stderr.write(
      `start: --ledger ${ledger} (a SQLite file: one writer process) contradicts server.workers: ${workers} in ${loaded.path}: use ledger.postgres\n`,
    );
    return 2;
  }
  if (workers > 1 && cluster.isPrimary) {
    early.end();
    return runPrimary(loaded.config);
  }
  // A cluster worker: no admin listener (the primary's asks over IPC), stop and reload by IPC.
  let reload: (why: string) => void = () => undefined;
  let running: RunningGateway | undefined;
  const worker = cluster.isWorker
    ? answerPrimary(
        () => running,
        () => reload('SIGHUP (from the primary)'),
      )
    : undefined;
  const firstWorker = process.env[WORKER_INDEX_ENV] === '1';
  // --ledger PATH puts the book where a deployment keeps its data (the Docker image: /data).
  const withFlags = (config: GatewayConfig): GatewayConfig =>
    ledger === undefined || config.ledger === false
      ? config
      : {
          ...config,
          ledger: { ...config.ledger, postgres: undefined, sqlite: { path: resolve(ledger) } },
        };
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(
      withFlags(loaded.config),
      worker === undefined
        ? {}
        : {
            // Every line says which worker wrote it.
            log: createLogger(loaded.config.log).child({
              worker: Number(process.env[WORKER_INDEX_ENV]),
            }),
            seedRevenue: false,
            onBookRevenue: (totals) => {
              if (firstWorker) sendToPrimary({ x402: 'revenue', totals });
            },
          },
      { admin: worker === undefined },
    );
    running = gateway;
  } catch (error) {
    worker?.close();
    // e.g. an anvil test key pointed at a real chain, an RPC that does not answer, a port in use.
    process.stderr.write(
      `x402-gateway: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  const log = gateway.log;
  const reloader = createConfigReloader({
    path: loaded.path,
    load: async (): Promise<ConfigResult> => {
      const result = await loadConfigFile(loaded.path, process.env);
      return result.ok ? { ok: true, config: withFlags(result.config) } : result;
    },
    running: gateway,
    log,
    watch: watchFlag(args),
  });
  reload = (why) => void reloader.reload(why);
  // Signals are taken before the line that says the gateway listens: whoever waits for that line
  // may signal at once.
  const stopped = waitForStop(
    worker?.stop,
    (fault, error) => {
      log.error(
        { fault, err: error },
        'bug: a fault escaped every handler; draining in-flight requests, then exiting',
      );
    },
    () => void reloader.reload('SIGHUP'),
  );
  if (early.end()) void reloader.reload('SIGHUP while starting');
  // A worker's primary says it once for all of them.
  if (worker === undefined) {
    process.stdout.write(`x402-gateway listening on ${gateway.url} (admin ${gateway.adminUrl})\n`);
  }
  const stoppedBy = await stopped;
  reloader.stop();
  worker?.close();
  log.info({ signal: stoppedBy }, 'shutting down');
  try {
    await gateway.close();
    return isFault(stoppedBy) ? 1 : 0;
  } catch {
    return 1;
  }
}
