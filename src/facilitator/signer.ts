/**
 * The settler signer handed to the official @x402/evm facilitator schemes (FacilitatorEvmSigner).
 *
 * - Reads go straight to the public client (keep-alive transport).
 * - Writes (writeContract / sendTransaction) go through a FIFO queue with an in-process account
 *   nonce: each send takes the next nonce, so concurrent settlements from one key never race on
 *   `eth_getTransactionCount`. The counter is re-read from the chain ("pending") after any failed
 *   send, because then we cannot know whether the nonce was used.
 * - Each settle runs inside an AsyncLocalStorage scope that records the hash it broadcast and
 *   whether its receipt wait timed out. The v1 scheme does not turn a receipt timeout into
 *   `settlement_pending` (only v2 does); local.ts uses this record to answer as v2 does.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { toFacilitatorEvmSigner, type FacilitatorEvmSigner } from '@x402/evm';
import {
  HttpRequestError,
  TimeoutError,
  WaitForTransactionReceiptTimeoutError,
  type Abi,
  type Account,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';

/** A transport failure seen during a call (the RPC did not answer usably). */
export interface TransportFailure {
  readonly failure: 'timeout' | 'network' | 'http_error';
  readonly detail: string;
}

/** What one verify/settle call did against the RPC, as seen by the signer. */
export interface CallTrace {
  /** Hashes broadcast during this call, in order. */
  readonly hashes: Hex[];
  /** True when a receipt wait ended by timeout. */
  receiptTimedOut: boolean;
  /** First transport failure, if any. The official schemes turn some of these into negative answers. */
  transportFailure: TransportFailure | undefined;
  /**
   * Set when the caller gave up (its deadline passed): a send of this call that has not started
   * yet is refused instead of broadcast, so nothing moves after the caller answered.
   */
  abandoned: boolean;
}

/** A send refused because its call was abandoned before the broadcast. Nothing was sent. */
export class CallAbandonedError extends Error {
  constructor() {
    super('deadline passed before the broadcast: not sent');
    this.name = 'CallAbandonedError';
  }
}

const traces = new AsyncLocalStorage<CallTrace>();

/** Start `fn` with a fresh trace; the trace is observable (and abandonable) while `fn` runs. */
export function startCallTrace<T>(fn: () => Promise<T>): {
  readonly trace: CallTrace;
  readonly done: Promise<T>;
} {
  const trace: CallTrace = {
    hashes: [],
    receiptTimedOut: false,
    transportFailure: undefined,
    abandoned: false,
  };
  return { trace, done: traces.run(trace, fn) };
}

/** The trace of the running call (startCallTrace); throws outside one (a bug). */
export function currentTrace(): CallTrace {
  const trace = traces.getStore();
  if (!trace) throw new Error('no call trace: run inside startCallTrace');
  return trace;
}

/** Run `fn` with a fresh trace; returns the result and the trace. */
export async function withCallTrace<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; trace: CallTrace }> {
  const { trace, done } = startCallTrace(fn);
  return { result: await done, trace };
}

/** Transport failure in an error's cause chain (viem wraps transport errors several levels deep). */
export function findTransportFailure(err: unknown): TransportFailure | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 10 && e instanceof Error; depth++) {
    if (e instanceof TimeoutError) return { failure: 'timeout', detail: e.shortMessage };
    if (e instanceof HttpRequestError) {
      return {
        failure: e.status !== undefined ? 'http_error' : 'network',
        detail: (e.details || e.shortMessage).slice(0, 200),
      };
    }
    e = e.cause;
  }
  return undefined;
}

/** Record a transport failure of `err` in the current trace, then rethrow. */
function noteAndRethrow(err: unknown): never {
  const trace = traces.getStore();
  if (trace && trace.transportFailure === undefined)
    trace.transportFailure = findTransportFailure(err);
  throw err;
}

function tracked<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return (...args: A) => fn(...args).catch(noteAndRethrow);
}

/** Serial async queue: one task at a time, FIFO. */
class SendQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export interface SettlerSignerDeps {
  readonly publicClient: PublicClient<Transport, Chain>;
  readonly walletClient: WalletClient<Transport, Chain, Account>;
  /** Receipt-wait bound (ms) applied to every wait. */
  readonly receiptTimeoutMs: number;
}

export interface SettlerSigner {
  readonly signer: FacilitatorEvmSigner;
  readonly address: Hex;
  /** Wait for a receipt (bounded by receiptTimeoutMs); marks the current trace on timeout. */
  waitForReceipt(hash: Hex): Promise<{ status: string; logs: readonly unknown[] }>;
}

export function createSettlerSigner(deps: SettlerSignerDeps): SettlerSigner {
  const { publicClient, walletClient } = deps;
  const account = walletClient.account;
  const queue = new SendQueue();
  let nextNonce: number | undefined;

  /** Send under the queue with an explicit nonce; resync the nonce after a failure. */
  function send(submit: (nonce: number) => Promise<Hex>): Promise<Hex> {
    const trace = traces.getStore();
    return queue.run(async () => {
      if (trace?.abandoned) throw new CallAbandonedError();
      try {
        nextNonce ??= await publicClient.getTransactionCount({
          address: account.address,
          blockTag: 'pending',
        });
        const nonce = nextNonce;
        const hash = await submit(nonce);
        nextNonce = nonce + 1;
        trace?.hashes.push(hash);
        return hash;
      } catch (err) {
        nextNonce = undefined;
        return noteAndRethrow(err);
      }
    });
  }

  async function waitForReceipt(hash: Hex, timeout = deps.receiptTimeoutMs) {
    try {
      return await publicClient.waitForTransactionReceipt({ hash, timeout });
    } catch (err) {
      if (err instanceof WaitForTransactionReceiptTimeoutError) {
        const trace = traces.getStore();
        if (trace) trace.receiptTimedOut = true;
        throw err;
      }
      noteAndRethrow(err);
    }
  }

  const base = {
    address: account.address,
    readContract: tracked(
      (args: {
        address: Hex;
        abi: readonly unknown[];
        functionName: string;
        args?: readonly unknown[];
      }) => publicClient.readContract({ ...args, abi: args.abi as Abi, args: args.args ?? [] }),
    ),
    verifyTypedData: tracked(
      (args: {
        address: Hex;
        domain: Record<string, unknown>;
        types: Record<string, unknown>;
        primaryType: string;
        message: Record<string, unknown>;
        signature: Hex;
      }) =>
        publicClient.verifyTypedData(args as Parameters<typeof publicClient.verifyTypedData>[0]),
    ),
    writeContract: (args: {
      address: Hex;
      abi: readonly unknown[];
      functionName: string;
      args: readonly unknown[];
      gas?: bigint;
      dataSuffix?: Hex;
    }) =>
      send((nonce) =>
        walletClient.writeContract({
          address: args.address,
          abi: args.abi as Abi,
          functionName: args.functionName,
          args: args.args,
          ...(args.gas !== undefined ? { gas: args.gas } : {}),
          ...(args.dataSuffix !== undefined ? { dataSuffix: args.dataSuffix } : {}),
          nonce,
        }),
      ),
    sendTransaction: (args: { to: Hex; data: Hex }) =>
      send((nonce) => walletClient.sendTransaction({ to: args.to, data: args.data, nonce })),
    waitForTransactionReceipt: (args: { hash: Hex; timeout?: number }) =>
      waitForReceipt(args.hash, args.timeout),
    // @x402/evm starts this check eagerly and may return early without awaiting it: a rejection
    // would then be unhandled and end the process (the gateway, with `facilitator.local`). On a
    // transport failure answer "no code" instead, with the failure noted: a negative answer with a
    // transport failure becomes `unavailable` in local.ts, never a verdict on the payment.
    getCode: (args: { address: Hex }) =>
      publicClient.getCode(args).catch((err: unknown) => {
        const failure = findTransportFailure(err);
        if (!failure) throw err;
        const trace = traces.getStore();
        if (trace && trace.transportFailure === undefined) trace.transportFailure = failure;
        return undefined;
      }),
  };
  const signer = toFacilitatorEvmSigner(base, { confirmationTimeoutMs: deps.receiptTimeoutMs });
  return {
    signer,
    address: account.address,
    waitForReceipt: (hash) => waitForReceipt(hash),
  };
}
