/**
 * Resolves once the process is asked to stop (SIGINT or SIGTERM) or `signal` aborts, with the
 * name of what stopped it. Long-running commands (start, dev, devnet, facilitator) all wait on it,
 * so they shut down the same way; its listeners are removed once it resolves.
 */
export function waitForStop(signal?: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    const onAbort = (): void => done('abort');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    if (signal?.aborted === true) done('abort');
    else signal?.addEventListener('abort', onAbort);
  });
}
