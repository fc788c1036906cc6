/**
 * Resolves once the process is asked to stop (SIGINT or SIGTERM) or `signal` aborts, with the
 * name of what stopped it. Long-running commands (start, dev, devnet, facilitator) all wait on it,
 * so they shut down the same way; its listeners are removed once it resolves.
 *
 * With `onFault`, an uncaught exception or an unhandled rejection (a bug that escaped every
 * handler) stops the process the same way instead of killing it on the spot: the caller drains
 * in-flight requests, settlements included, before it exits (non-zero). A second fault during that
 * drain is node's default again: the process dies.
 */
export type Fault = 'uncaughtException' | 'unhandledRejection';

export function waitForStop(
  signal?: AbortSignal,
  onFault?: (fault: Fault, error: unknown) => void,
): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (onFault !== undefined) {
        process.off('uncaughtException', onException);
        process.off('unhandledRejection', onRejection);
      }
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
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
