/**
 * Config reloads (SIGHUP, `--watch`): how many applied or failed, when the last one applied, and
 * how many restart-only keys the file changes that the running gateway still runs without. An
 * alert on the last success being older than the last failure tells an operator a bad file is
 * waiting, as Prometheus' own `config_last_reload_successful` does.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type ReloadResult = 'success' | 'failure';

export interface ConfigReloadMetrics {
  /** A reload applied (`refusedKeys`: restart-only keys it could not apply) or failed. */
  reloaded(result: ReloadResult, refusedKeys?: number): void;
}

export function createConfigReloadMetrics(prefix: string, registry: Registry): ConfigReloadMetrics {
  const registers = [registry];
  const total = new Counter({
    name: `${prefix}config_reload_total`,
    help: 'Config reloads (SIGHUP, --watch) by result: success (applied) or failure (the file was invalid or unreadable: the running config stays).',
    labelNames: ['result'],
    registers,
  });
  for (const result of ['success', 'failure'] satisfies ReloadResult[]) total.inc({ result }, 0);
  // The config the process started with counts as the first successful load.
  const lastSuccess = new Gauge({
    name: `${prefix}config_last_reload_success_timestamp_seconds`,
    // Across workers: the oldest (a worker that did not apply the last reload shows).
    aggregator: 'min',
    help: 'Unix time of the last config load that applied (start-up counts as one).',
    registers,
  });
  lastSuccess.set(Date.now() / 1000);
  const lastSuccessful = new Gauge({
    name: `${prefix}config_last_reload_successful`,
    aggregator: 'min',
    help: '1 if the last config reload applied, 0 if it failed (the running config is older than the file).',
    registers,
  });
  lastSuccessful.set(1);
  const restartPending = new Gauge({
    name: `${prefix}config_restart_pending_keys`,
    aggregator: 'max',
    help: 'Restart-only keys the config file changes that the running gateway does not apply until a restart.',
    registers,
  });
  restartPending.set(0);
  return {
    reloaded(result, refusedKeys = 0) {
      total.labels(result).inc();
      lastSuccessful.set(result === 'success' ? 1 : 0);
      if (result !== 'success') return;
      lastSuccess.set(Date.now() / 1000);
      restartPending.set(refusedKeys);
    },
  };
}
