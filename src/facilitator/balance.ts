/**
 * The settler's gas money, watched for the `x402_gateway_settler_balance_wei` gauge: read through
 * the built-in facilitator's RPC when started and then every interval (60 s by default), on an
 * unref'd timer, never on a request's path. A failed read keeps the last value and is reported.
 */

export interface SettlerBalanceWatchOptions {
  /** One read of the balance, wei (LocalFacilitator.settlerBalance). */
  read(): Promise<bigint>;
  /** Where each successful read goes (the gauge). */
  set(wei: bigint): void;
  /** A failed read; the gauge keeps its last value. */
  onError?(err: unknown): void;
  /** Between reads, ms. Default 60 000. */
  readonly intervalMs?: number;
}

export interface SettlerBalanceWatch {
  /** First read now (not awaited by callers on a request path), then every interval. */
  start(): Promise<void>;
  stop(): void;
}

export function watchSettlerBalance(options: SettlerBalanceWatchOptions): SettlerBalanceWatch {
  const intervalMs = options.intervalMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let reading = false;
  let stopped = false;
  const readOnce = async (): Promise<void> => {
    if (reading || stopped) return; // a slow RPC: never two reads at once
    reading = true;
    try {
      const wei = await options.read();
      if (!stopped) options.set(wei);
    } catch (err) {
      options.onError?.(err);
    } finally {
      reading = false;
    }
  };
  return {
    async start() {
      if (timer !== undefined || stopped) return;
      timer = setInterval(() => void readOnce(), intervalMs);
      timer.unref();
      await readOnce();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
