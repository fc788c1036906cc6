/**
 * Read-only chain lookups that settle what a facilitator's answer left unknown: did the EIP-3009
 * transfer of this authorization land, to us, for the right value? The token's own records are the
 * evidence, never a facilitator's word: a "nonce already used" only says that *something* used the
 * nonce (our transfer, or the payer's cancelAuthorization, or an authorization to someone else).
 *
 * Off the request path's hot part: it runs only for a refused resumed settlement, so viem's public
 * client (fetch-based) is good enough here.
 */
import {
  createPublicClient,
  http,
  parseAbi,
  parseEventLogs,
  type Address,
  type Hex,
  type Log,
  type PublicClient,
} from 'viem';

const TOKEN_ABI = parseAbi([
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)',
  'event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce)',
]);

/** The transfer an authorization promised: `value` of `asset` from `from` to `to`. */
export interface TransferQuery {
  readonly asset: Address;
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  /** The EIP-3009 nonce (bytes32). */
  readonly nonce: Hex;
  /** The authorization's validBefore, unix seconds. */
  readonly validBefore: number;
  /** A transaction hash we were given for it, if any. */
  readonly transaction?: string | undefined;
}

export type TransferVerdict =
  /** Our Transfer is in a successful transaction. */
  | { readonly kind: 'landed'; readonly transaction: Hex }
  /** It did not happen and cannot any more (nonce spent without our Transfer, or expired unused). */
  | { readonly kind: 'failed'; readonly detail: string }
  /** Not yet, and it still may: the nonce is unused and validBefore has not passed. */
  | { readonly kind: 'open'; readonly detail: string }
  /** The chain could not tell (RPC failure, or the nonce's transaction is outside the lookback). */
  | { readonly kind: 'unknown'; readonly detail: string };

/** What the chain says of a settlement we recorded as landed, by its transaction hash. */
export type SettledVerdict =
  /** Our Transfer, in a successful transaction with at least the confirmations asked. */
  | { readonly kind: 'confirmed'; readonly transaction: Hex; readonly confirmations: bigint }
  /** Our Transfer is there, with fewer confirmations so far. */
  | { readonly kind: 'waiting'; readonly confirmations: bigint }
  /** The hash reverted, vanished, or carries no Transfer of ours, and no other transaction does. */
  | { readonly kind: 'disputed'; readonly detail: string }
  | { readonly kind: 'unknown'; readonly detail: string };

export interface ChainReader {
  checkTransfer(query: TransferQuery): Promise<TransferVerdict>;
  /** A settlement recorded as landed: confirmed at `confirmations` blocks, or disputed. */
  checkSettled(query: TransferQuery, confirmations: number): Promise<SettledVerdict>;
  /**
   * Is there code at `address` now (a contract wallet, or an EIP-7702 delegated account)? `true`,
   * `false` (none: an EOA's signature must recover to it), or `undefined` when the chain could not
   * tell. Optional: a reader without it never proves an address code-free.
   */
  hasCode?(address: Address): Promise<boolean | undefined>;
}

export interface ChainReaderOptions {
  readonly rpcUrl: string;
  /** Deadline of one JSON-RPC call, ms. Default 5 000. */
  readonly timeoutMs?: number;
  /**
   * Deadline of a whole check (up to six calls), ms; past it the answer is `unknown`, so a slow
   * RPC never holds a request longer than this. Default 10 000.
   */
  readonly deadlineMs?: number;
  /** How many blocks back to look for the nonce's AuthorizationUsed/Canceled log. Default 50 000. */
  readonly lookbackBlocks?: bigint;
  readonly nowSec?: () => number;
}

const HASH = /^0x[0-9a-fA-F]{64}$/;

export function createChainReader(options: ChainReaderOptions): ChainReader {
  const client: PublicClient = createPublicClient({
    transport: http(options.rpcUrl, { timeout: options.timeoutMs ?? 5_000, retryCount: 0 }),
    // viem caches the block number for 4 s by default: a log search up to a stale head misses a
    // transfer mined since, and a landed settlement reads as unknown (503 instead of served).
    cacheTime: 0,
  });
  const lookback = options.lookbackBlocks ?? 50_000n;
  const nowSec = options.nowSec ?? (() => Math.floor(Date.now() / 1000));

  /** Our Transfer in a successful transaction `hash`, or false (reverted, missing, or not ours). */
  async function carriesOurTransfer(hash: Hex, q: TransferQuery): Promise<boolean> {
    const receipt = await client.getTransactionReceipt({ hash }).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    return receipt !== undefined && receipt.status === 'success' && hasTransfer(receipt.logs, q);
  }

  const deadlineMs = options.deadlineMs ?? 10_000;

  function withDeadline<T>(work: Promise<T>, late: T): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(late), deadlineMs);
    });
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
  }
  const tooLate = { kind: 'unknown', detail: `chain lookup exceeded ${deadlineMs} ms` } as const;

  return {
    checkTransfer: (q) => withDeadline<TransferVerdict>(check(q), tooLate),
    checkSettled: (q, confirmations) =>
      withDeadline<SettledVerdict>(settled(q, BigInt(confirmations)), tooLate),
    hasCode: (address) =>
      withDeadline<boolean | undefined>(
        client.getCode({ address }).then(
          (code) => code !== undefined && code !== '0x',
          () => undefined,
        ),
        undefined,
      ),
  };

  async function settled(q: TransferQuery, wanted: bigint): Promise<SettledVerdict> {
    try {
      const hash =
        q.transaction !== undefined && HASH.test(q.transaction)
          ? (q.transaction as Hex)
          : undefined;
      let landedIn: Hex | undefined;
      let block: bigint | undefined;
      if (hash !== undefined) {
        const receipt = await client.getTransactionReceipt({ hash }).catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        if (receipt !== undefined && receipt.status === 'success' && hasTransfer(receipt.logs, q)) {
          landedIn = hash;
          block = receipt.blockNumber;
        }
      }
      if (landedIn === undefined) {
        // Not in the hash we were given: did another transaction carry our transfer?
        const other = await check({ ...q, transaction: undefined });
        if (other.kind === 'unknown') return other;
        if (other.kind !== 'landed') {
          return { kind: 'disputed', detail: `no transfer of ours on chain: ${other.detail}` };
        }
        const receipt = await client.getTransactionReceipt({ hash: other.transaction });
        landedIn = other.transaction;
        block = receipt.blockNumber;
      }
      const latest = await client.getBlockNumber();
      const confirmations = latest >= block! ? latest - block! + 1n : 0n;
      return confirmations >= wanted
        ? { kind: 'confirmed', transaction: landedIn, confirmations }
        : { kind: 'waiting', confirmations };
    } catch (err) {
      return { kind: 'unknown', detail: `chain lookup failed: ${short(err)}` };
    }
  }

  async function check(q: TransferQuery): Promise<TransferVerdict> {
    try {
      if (q.transaction !== undefined && HASH.test(q.transaction)) {
        const hash = q.transaction as Hex;
        if (await carriesOurTransfer(hash, q)) return { kind: 'landed', transaction: hash };
      }
      const used = await client.readContract({
        address: q.asset,
        abi: TOKEN_ABI,
        functionName: 'authorizationState',
        args: [q.from, q.nonce],
      });
      if (!used) {
        return nowSec() > q.validBefore
          ? { kind: 'failed', detail: 'the nonce is unused and validBefore has passed' }
          : { kind: 'open', detail: 'the nonce is unused; the transfer may still land' };
      }
      const latest = await client.getBlockNumber();
      const range = { fromBlock: latest > lookback ? latest - lookback : 0n, toBlock: latest };
      const args = { authorizer: q.from, nonce: q.nonce };
      const [usedLogs, canceledLogs] = await Promise.all([
        client.getLogs({ address: q.asset, event: TOKEN_ABI[2], args, ...range }),
        client.getLogs({ address: q.asset, event: TOKEN_ABI[3], args, ...range }),
      ]);
      if (canceledLogs.some((l) => !l.removed)) {
        return { kind: 'failed', detail: 'the payer canceled the authorization' };
      }
      const spent = usedLogs.find((l) => !l.removed);
      if (spent === undefined) {
        return {
          kind: 'unknown',
          detail: `the nonce is used, in none of the last ${lookback} blocks`,
        };
      }
      if (await carriesOurTransfer(spent.transactionHash, q)) {
        return { kind: 'landed', transaction: spent.transactionHash };
      }
      return {
        kind: 'failed',
        detail: `the nonce was used by ${spent.transactionHash} without our transfer`,
      };
    } catch (err) {
      return { kind: 'unknown', detail: `chain lookup failed: ${short(err)}` };
    }
  }
}

/** A Transfer of exactly `value` from `from` to `to`, emitted by the token itself. */
function hasTransfer(logs: readonly Log[], q: TransferQuery): boolean {
  const asset = q.asset.toLowerCase();
  const from = q.from.toLowerCase();
  const to = q.to.toLowerCase();
  const ours = logs.filter((l) => l.address.toLowerCase() === asset);
  return parseEventLogs({ abi: TOKEN_ABI, eventName: 'Transfer', logs: ours }).some(
    (e) =>
      e.args.from.toLowerCase() === from &&
      e.args.to.toLowerCase() === to &&
      e.args.value === q.value,
  );
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'TransactionReceiptNotFoundError';
}

function short(err: unknown): string {
  const msg =
    err instanceof Error
      ? ((err as { shortMessage?: string }).shortMessage ?? err.message)
      : String(err);
  return msg.length > 200 ? `${msg.slice(0, 199)}…` : msg;
}
