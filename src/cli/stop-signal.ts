/**
 * Resolves once the process is asked to stop (SIGINT or SIGTERM) or `signal` aborts, with the
 * name of what stopped it. SIGHUP calls `onHangup` (start and dev reload their config; other
 * commands log that they have none). Long-running commands (start, dev, devnet, facilitator) all
 * wait on it, so they shut down the same way; its listeners are removed once it resolves.
 *
 * With `onFault`, an uncaught exception or an unhandled rejection (a bug that escaped every
 * handler) stops the process the same way instead of killing it on the spot: the caller drains
 * in-flight requests, settlements included, before it exits (non-zero). A second fault during that
 * drain is node's default again: the process dies.
 */
export type Fault = 'uncaughtException' | 'unhandledRejection';

/** The line a SIGHUP gets by a command with no config to reload (node's default is to die). */
export const SIGHUP_IGNORED =
  'SIGHUP ignored: this command has no config to reload (SIGTERM or SIGINT stops)';

export function waitForStop(
  signal?: AbortSignal,
  onFault?: (fault: Fault, error: unknown) => void,
  onHangup: () => void = () => process.stderr.write(`x402-gateway: ${SIGHUP_IGNORED}\n`),
): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      if (onFault !== undefined) {
        process.off('uncaughtException', onException);
        process.off('unhandledRejection', onRejection);
      }
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    // A closed terminal or `kill -HUP` (a reload, elsewhere) must not kill a gateway mid-settlement.
    const onHup = (): void => onHangup();
    const onAbort = (): void => done('abort');
    const onException = (error: unknown): void => {
      onFault?.('uncaughtException', error);
      done('uncaughtException');
    };
    const onRejection = (reason: unknown): void => {
      onFault?.('unhandledRejection', reason);
      done('unhandledRejection');
    };
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onHup);
    if (onFault !== undefined) {
      process.on('uncaughtException', onException);
      process.on('unhandledRejection', onRejection);
    }
    if (signal?.aborted === true) done('abort');
    else signal?.addEventListener('abort', onAbort);
  });
}

/** True for the names `waitForStop` resolves with after a fault. */
export function isFault(why: string): why is Fault {
  return why === 'uncaughtException' || why === 'unhandledRejection';
}
