/**
 * The built-in facilitator in two steps, for the composition root: `buildLocalFacilitator` checks
 * the options and does no I/O; `start()` runs the test-key guard and reads the chain id (both need
 * the RPC), and only then builds the official facilitator. Until `start()` has resolved, every call
 * answers `unavailable`, so a gateway that is not started fails closed rather than settling.
 *
 * local.ts (and with it the official `@x402/core` and `@x402/evm` code) is loaded by `start()`, so
 * a gateway on an HTTP facilitator never loads it.
 */
import type { Address } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import type { FacilitatorResult } from '../verify/index.js';
import type { LocalFacilitator, LocalFacilitatorOptions } from './local.js';

/**
 * Build and start the built-in facilitator. Rejects when the key is malformed, when an anvil test
 * key points at a non-devnet RPC, when the RPC does not answer `eth_chainId`, or when `networks`
 * names another chain.
 */
export async function createLocalFacilitator(
  options: LocalFacilitatorOptions,
): Promise<DeferredLocalFacilitator> {
  const facilitator = buildLocalFacilitator(options);
  await facilitator.start();
  return facilitator;
}

/** A built-in facilitator that has not touched the network yet. */
export interface DeferredLocalFacilitator extends LocalFacilitator {
  /** Connect: guard the key, read the chain id, build the official facilitator. Idempotent. */
  start(): Promise<void>;
}

const KEY_SHAPE = /^0x[0-9a-fA-F]{64}$/;

/** Throws (no I/O) when the key is malformed. */
export function buildLocalFacilitator(options: LocalFacilitatorOptions): DeferredLocalFacilitator {
  const key = options.privateKey.trim();
  if (!KEY_SHAPE.test(key)) throw new Error('privateKey must be 0x followed by 64 hex digits');
  const settlerAddress: Address = privateKeyToAddress(key as `0x${string}`);
  let inner: LocalFacilitator | undefined;
  let starting: Promise<void> | undefined;
  let closed = false;

  const started = (): LocalFacilitator => {
    if (inner === undefined) throw new Error('the built-in facilitator is not started');
    return inner;
  };
  const notStarted = <T>(): Promise<FacilitatorResult<T>> =>
    Promise.resolve({
      kind: 'unavailable',
      failure: 'network',
      detail: 'the built-in facilitator is not started',
    });

  return {
    settlerAddress,
    get chainId() {
      return started().chainId;
    },
    get networks() {
      return started().networks;
    },
    start() {
      starting ??= connect(options).then(async (f) => {
        // stop() during start(): close what start() built instead of leaking its sockets.
        if (closed) await f.close();
        else inner = f;
      });
      return starting;
    },
    verify: (request) => (inner === undefined ? notStarted() : inner.verify(request)),
    settle: (request) => (inner === undefined ? notStarted() : inner.settle(request)),
    supported: () => (inner === undefined ? notStarted() : inner.supported()),
    settlerBalance: () =>
      inner === undefined
        ? Promise.reject(new Error('the built-in facilitator is not started'))
        : inner.settlerBalance(),
    async close() {
      closed = true;
      await inner?.close();
    },
  };
}

async function connect(options: LocalFacilitatorOptions): Promise<LocalFacilitator> {
  const { connectLocalFacilitator } = await import('./local.js');
  return connectLocalFacilitator(options);
}
