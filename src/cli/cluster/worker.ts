/**
 * A cluster worker's side of the IPC channel: it serves the paid listener (shared by the primary,
 * which hands out connections round-robin) and answers the primary's questions for the admin
 * listener it does not have: its metrics, its readiness, a reconciliation pass. The primary's
 * `stop` and `reload` arrive here too, as the signals would in a single process.
 */
import type { RunningGateway } from '../../server.js';
import { isToWorker, type ToPrimary, type ToWorker } from './messages.js';

export interface WorkerControls {
  /** Aborted when the primary says stop. */
  readonly stop: AbortSignal;
  /** Stop answering (the worker is shutting down). */
  close(): void;
}

export function answerPrimary(
  running: () => RunningGateway | undefined,
  onReload: () => void,
): WorkerControls {
  const stop = new AbortController();
  const onMessage = (message: unknown): void => {
    if (!isToWorker(message)) return;
    switch (message.x402) {
      case 'stop':
        stop.abort();
        return;
      case 'reload':
        onReload();
        return;
      case 'ask':
        answer(message, running()).then(send, (err: unknown) =>
          send({
            x402: 'answer',
            id: message.id,
            error: err instanceof Error ? err.message : String(err),
          }),
        );
    }
  };
  // The primary is gone (killed): nobody can reach or supervise this worker any more.
  const onDisconnect = (): void => stop.abort();
  process.on('message', onMessage);
  process.once('disconnect', onDisconnect);
  return {
    stop: stop.signal,
    close: () => {
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
    },
  };
}

async function answer(
  ask: Extract<ToWorker, { x402: 'ask' }>,
  running: RunningGateway | undefined,
): Promise<ToPrimary> {
  if (running === undefined) throw new Error('this worker is still starting');
  const gateway = running.gateway;
  switch (ask.question) {
    case 'metrics':
      return {
        x402: 'answer',
        id: ask.id,
        value: await gateway.metrics.registry.getMetricsAsJSON(),
      };
    case 'readyz':
      return { x402: 'answer', id: ask.id, value: gateway.readiness.snapshot() };
    case 'reconcile': {
      if (gateway.reconcile === undefined) throw new Error('no ledger (ledger: false)');
      return { x402: 'answer', id: ask.id, value: await gateway.reconcile() };
    }
  }
}

/** Send to the primary; a primary that is gone has nothing left to hear. */
export function send(message: ToPrimary): void {
  if (process.connected) process.send?.(message);
}
