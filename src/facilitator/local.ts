/**
 * The built-in facilitator: verifies and settles in-process on top of the official x402 logic
 * (`x402Facilitator` from @x402/core + the `exact` EVM facilitator schemes of @x402/evm, v2 and v1),
 * so answers and reason codes are the official ones. What this file adds around them:
 *
 * - input validation before the official code (which casts), with spec reason codes;
 * - one RPC per facilitator: the served networks are those of the RPC's chain id;
 * - a settler signer with a serialized send queue and in-process nonce (signer.ts);
 * - fail-closed transport handling: a negative answer caused by the RPC being down/slow becomes
 *   `unavailable` (the official code reports e.g. an unreachable RPC as an invalid signature);
 * - v1 receipt timeouts answer `settlement_pending` with the hash, as the v2 scheme does, and a
 *   v1 retry of the same payload reconciles against that hash instead of broadcasting again;
 * - optional per-call deadlines (the gateway's verifyTimeoutMs/settleTimeoutMs): a late verify is
 *   `unavailable` (timeout); a late settle is `settlement_pending` with the hash when one was
 *   broadcast, else `unavailable`, and a send it had not started yet is never broadcast;
 * - the anvil test-key guard (assertTestKeyAllowed).
 */
import { x402Facilitator } from '@x402/core/facilitator';
import type {
  PaymentPayload,
  PaymentRequirements,
  SettleResponse as CoreSettleResponse,
} from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/facilitator';
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/facilitator';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  WaitForTransactionReceiptTimeoutError,
  type Address,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { assertTestKeyAllowed, findNetwork, NETWORKS } from '../chains/index.js';
import type {
  FacilitatorClient,
  FacilitatorRequest,
  FacilitatorResult,
  SupportedResponse,
} from '../verify/index.js';
import type { SettleResponse, SupportedKind, VerifyResponse } from '../x402/index.js';
import { createKeepAliveTransport } from './rpc-transport.js';
import { within } from './deadline.js';
import {
  createSettlerSigner,
  currentTrace,
  findTransportFailure,
  startCallTrace,
  type CallTrace,
} from './signer.js';
import { REASON, checkRequest, payerOf } from './validate.js';

/** Reason strings of @x402/evm (exact/facilitator/errors.ts) that this file emits itself. */
const ERR_SETTLEMENT_PENDING = 'settlement_pending';
const ERR_TRANSACTION_FAILED = 'invalid_exact_evm_transaction_failed';
const ERR_NONCE_USED = 'invalid_exact_evm_nonce_already_used';
const ERR_INSUFFICIENT_BALANCE = 'invalid_exact_evm_insufficient_balance';
const ERR_VALID_BEFORE = 'invalid_exact_evm_payload_authorization_valid_before';
const ERR_VALID_AFTER = 'invalid_exact_evm_payload_authorization_valid_after';
const ERR_SIGNATURE = 'invalid_exact_evm_signature';

export interface LocalFacilitatorOptions {
  /** JSON-RPC endpoint of the chain to settle on (one chain per facilitator). */
  readonly rpcUrl: string;
  /** Settler private key (0x + 64 hex). Pays the gas. Anvil test keys only against a local anvil. */
  readonly privateKey: string;
  /**
   * Networks to serve, as v1 names or CAIP-2 ids; each must be the RPC's chain. Default: every known
   * name of the RPC's chain id (e.g. `base` and `eip155:8453`), or `eip155:<id>` alone when unknown.
   */
  readonly networks?: readonly string[];
  /** Receipt wait after broadcast; past it, settle answers `settlement_pending` + hash. Default 60 000. */
  readonly receiptTimeoutMs?: number;
  /** Deadline of one JSON-RPC call. Default 10 000. */
  readonly rpcTimeoutMs?: number;
  /** Receipt polling interval. Default 500 (Base produces a block every 2 s). */
  readonly pollingIntervalMs?: number;
  /**
   * Re-run the on-chain simulation in settle (official option, default false there). Default true
   * here: a replay or an emptied balance is refused with the official diagnosis and costs no gas.
   */
  readonly simulateInSettle?: boolean;
  /** Deadline of one verify, ms; past it the answer is `unavailable` (timeout). Default none. */
  readonly verifyTimeoutMs?: number;
  /**
   * Deadline of one settle, ms. Past it: `settlement_pending` + hash when the transfer was broadcast,
   * else `unavailable` (timeout), and the transfer is not broadcast afterwards. Keep
   * receiptTimeoutMs below it. Default none.
   */
  readonly settleTimeoutMs?: number;
}

/** The built-in facilitator: a FacilitatorClient plus what it settles with. */
export interface LocalFacilitator extends FacilitatorClient {
  /** Address that sends the settlement transactions. */
  readonly settlerAddress: Address;
  readonly chainId: number;
  /** Served networks: CAIP-2 (v2) and v1 names. */
  readonly networks: { readonly v2: readonly string[]; readonly v1: readonly string[] };
  /** The settler's native balance (gas money), wei, read from the RPC (one `eth_getBalance`). */
  settlerBalance(): Promise<bigint>;
}

interface ServedNetworks {
  readonly v2: readonly string[];
  readonly v1: readonly string[];
}

function servedNetworks(chainId: number, requested: readonly string[] | undefined): ServedNetworks {
  const caip2 = `eip155:${chainId}`;
  if (requested === undefined) {
    const known = NETWORKS.find((n) => n.chainId === chainId);
    return { v2: [caip2], v1: known ? [known.v1Name] : [] };
  }
  const v2 = new Set<string>();
  const v1 = new Set<string>();
  for (const name of requested) {
    if (name === caip2) {
      v2.add(name);
      continue;
    }
    const info = findNetwork(name);
    if (!info) throw new Error(`unknown network "${name}"`);
    if (info.chainId !== chainId) {
      throw new Error(
        `network "${name}" is chain ${info.chainId}, but the RPC serves chain ${chainId}`,
      );
    }
    if (name === info.caip2) v2.add(name);
    else v1.add(name);
  }
  if (v2.size + v1.size === 0) throw new Error('networks must not be empty');
  return { v2: [...v2], v1: [...v1] };
}

function short(err: unknown): string {
  const msg =
    err instanceof Error
      ? ((err as { shortMessage?: string }).shortMessage ?? err.message)
      : String(err);
  return msg.length > 300 ? msg.slice(0, 300) + '…' : msg;
}

/** The v1 scheme puts raw error messages into errorReason; map them to wire reasons. */
function v1ReasonFromMessage(message: string): string {
  if (/authorization is used|used or canceled|already used/i.test(message)) return ERR_NONCE_USED;
  if (/exceeds balance|insufficient/i.test(message)) return ERR_INSUFFICIENT_BALANCE;
  if (/authorization is expired/i.test(message)) return ERR_VALID_BEFORE;
  if (/not yet valid/i.test(message)) return ERR_VALID_AFTER;
  if (/invalid signature/i.test(message)) return ERR_SIGNATURE;
  return ERR_TRANSACTION_FAILED;
}

const WIRE_REASON = /^[a-z0-9_]{1,64}$/;

/** Pending v1 settlements: signature → broadcast hash (the v2 scheme keeps its own store). */
class PendingV1 {
  private readonly entries = new Map<string, { hash: Hex; at: number }>();
  constructor(
    private readonly ttlMs = 60 * 60_000,
    private readonly cap = 10_000,
  ) {}
  get(key: string): Hex | undefined {
    const e = this.entries.get(key);
    if (e && Date.now() - e.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e?.hash;
  }
  set(key: string, hash: Hex): void {
    const now = Date.now();
    for (const [k, e] of this.entries) if (now - e.at > this.ttlMs) this.entries.delete(k);
    if (this.entries.size < this.cap) this.entries.set(key, { hash, at: now });
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * Connect the built-in facilitator to its chain (deferred.ts calls this from `start()`). Rejects
 * when the key is malformed, when an anvil test key points at a non-devnet RPC, when the RPC does
 * not answer `eth_chainId`, or when `networks` names another chain.
 */
export async function connectLocalFacilitator(
  options: LocalFacilitatorOptions,
): Promise<LocalFacilitator> {
  const key = options.privateKey.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new Error('privateKey must be 0x followed by 64 hex digits');
  await assertTestKeyAllowed(key, options.rpcUrl);
  const receiptTimeoutMs = options.receiptTimeoutMs ?? 60_000;
  const rpc = createKeepAliveTransport(options.rpcUrl, {
    timeoutMs: options.rpcTimeoutMs ?? 10_000,
  });
  try {
    const chainId = await createPublicClient({ transport: rpc.transport }).getChainId();
    const served = servedNetworks(chainId, options.networks);
    const chain = defineChain({
      id: chainId,
      name: `eip155:${chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [options.rpcUrl] } },
    });
    const pollingInterval = options.pollingIntervalMs ?? 500;
    const publicClient = createPublicClient({ chain, transport: rpc.transport, pollingInterval });
    const walletClient = createWalletClient({
      chain,
      transport: rpc.transport,
      account: privateKeyToAccount(key as Hex),
      pollingInterval,
    });
    const settler = createSettlerSigner({ publicClient, walletClient, receiptTimeoutMs });
    const simulateInSettle = options.simulateInSettle ?? true;
    const core = new x402Facilitator();
    if (served.v2.length > 0) {
      core.register(
        served.v2 as PaymentRequirements['network'][],
        new ExactEvmScheme(settler.signer, { simulateInSettle }),
      );
    }
    if (served.v1.length > 0) {
      core.registerV1(
        served.v1 as PaymentRequirements['network'][],
        new ExactEvmSchemeV1(settler.signer, { simulateInSettle }),
      );
    }
    return buildClient({
      core,
      settler,
      served,
      chainId,
      verifyTimeoutMs: options.verifyTimeoutMs,
      settleTimeoutMs: options.settleTimeoutMs,
      balance: () => publicClient.getBalance({ address: settler.address }),
      close: () => rpc.close(),
    });
  } catch (err) {
    rpc.close();
    throw err;
  }
}

interface ClientParts {
  readonly core: x402Facilitator;
  readonly settler: ReturnType<typeof createSettlerSigner>;
  readonly served: ServedNetworks;
  readonly chainId: number;
  readonly verifyTimeoutMs: number | undefined;
  readonly settleTimeoutMs: number | undefined;
  balance(): Promise<bigint>;
  close(): void;
}

function ok<T>(value: T): FacilitatorResult<T> {
  return { kind: 'ok', value, status: 200 };
}

function unavailable<T>(trace: CallTrace['transportFailure'] & object): FacilitatorResult<T> {
  return { kind: 'unavailable', failure: trace.failure, detail: trace.detail };
}

function late<T>(op: 'verify' | 'settle', ms: number): FacilitatorResult<T> {
  return {
    kind: 'unavailable',
    failure: 'timeout',
    detail: `${op} exceeded its ${ms} ms deadline`,
  };
}

function buildClient(parts: ClientParts): LocalFacilitator {
  const { core, settler, served } = parts;
  const v2Set = new Set(served.v2);
  const v1Set = new Set(served.v1);
  const pendingV1 = new PendingV1();
  /** `from:nonce` of authorizations whose settle is running → that call's trace. */
  const inFlight = new Map<string, CallTrace>();

  /** Reason to refuse before the official code, or undefined. */
  function routeProblem(req: FacilitatorRequest): string | undefined {
    if (req.paymentRequirements.scheme !== 'exact') return REASON.unsupportedScheme;
    const served = req.x402Version === 1 ? v1Set : v2Set;
    return served.has(req.paymentRequirements.network) ? undefined : REASON.invalidNetwork;
  }

  function networkOf(req: unknown): string {
    const r = req as { paymentRequirements?: { network?: unknown } };
    return typeof r?.paymentRequirements?.network === 'string' ? r.paymentRequirements.network : '';
  }

  async function verify(request: FacilitatorRequest): Promise<FacilitatorResult<VerifyResponse>> {
    const payer = payerOf(request);
    const checked = checkRequest(request);
    if (!checked.ok) {
      return ok({
        isValid: false,
        invalidReason: checked.reason,
        invalidMessage: checked.message,
        payer,
      });
    }
    const req = checked.request;
    const route = routeProblem(req);
    if (route) return ok({ isValid: false, invalidReason: route, payer });
    try {
      const call = startCallTrace(() =>
        core.verify(
          req.paymentPayload as PaymentPayload,
          req.paymentRequirements as unknown as PaymentRequirements,
        ),
      );
      const raced = await within(parts.verifyTimeoutMs, call.done);
      if (raced.kind === 'late') {
        call.trace.abandoned = true;
        return late('verify', parts.verifyTimeoutMs!);
      }
      const result = raced.value;
      const trace = call.trace;
      if (!result.isValid && trace.transportFailure) return unavailable(trace.transportFailure);
      return ok({
        isValid: result.isValid,
        ...(result.invalidReason !== undefined ? { invalidReason: result.invalidReason } : {}),
        ...(result.invalidMessage !== undefined ? { invalidMessage: result.invalidMessage } : {}),
        payer: result.payer ?? payer,
      });
    } catch (err) {
      const transport = findTransportFailure(err);
      if (transport) return unavailable(transport);
      return ok({
        isValid: false,
        invalidReason: REASON.unexpectedVerifyError,
        invalidMessage: short(err),
        payer,
      });
    }
  }

  function toSettle(r: CoreSettleResponse, fallbackPayer: string | undefined): SettleResponse {
    return {
      success: r.success,
      ...(r.errorReason !== undefined ? { errorReason: r.errorReason } : {}),
      ...(r.errorMessage !== undefined ? { errorMessage: r.errorMessage } : {}),
      payer: r.payer ?? fallbackPayer,
      transaction: r.transaction ?? '',
      network: r.network,
    };
  }

  /** v1 retry of a payload whose settlement was pending: reconcile against the known hash. */
  async function reconcileV1(
    signature: string,
    hash: Hex,
    network: string,
    payer: string | undefined,
  ) {
    try {
      const receipt = await settler.waitForReceipt(hash);
      pendingV1.delete(signature);
      return receipt.status === 'success'
        ? { success: true, transaction: hash, network, payer }
        : {
            success: false,
            errorReason: ERR_TRANSACTION_FAILED,
            transaction: hash,
            network,
            payer,
          };
    } catch (err) {
      return {
        success: false,
        errorReason: ERR_SETTLEMENT_PENDING,
        errorMessage: short(err),
        transaction: hash,
        network,
        payer,
      };
    }
  }

  async function settle(request: FacilitatorRequest): Promise<FacilitatorResult<SettleResponse>> {
    const payer = payerOf(request);
    const network = networkOf(request);
    const checked = checkRequest(request);
    if (!checked.ok) {
      return ok({
        success: false,
        errorReason: checked.reason,
        errorMessage: checked.message,
        payer,
        transaction: '',
        network,
      });
    }
    const req = checked.request;
    const route = routeProblem(req);
    if (route) return ok({ success: false, errorReason: route, payer, transaction: '', network });
    const exact = (
      req.paymentPayload as {
        payload: { signature: string; authorization: { from: string; nonce: string } };
      }
    ).payload;
    const signature = exact.signature;
    // The same authorization already being settled here: do not broadcast a second transaction that
    // can only revert (and burn gas). Once the running call has broadcast, its hash is pending;
    // before that, refuse. The chain stays the real guard.
    const inFlightKey = `${exact.authorization.from.toLowerCase()}:${exact.authorization.nonce.toLowerCase()}`;
    const running = inFlight.get(inFlightKey);
    if (running) {
      const hash = running.hashes[running.hashes.length - 1];
      return ok(
        hash
          ? {
              success: false,
              errorReason: ERR_SETTLEMENT_PENDING,
              errorMessage: 'settlement of this authorization in progress',
              payer,
              transaction: hash,
              network,
            }
          : {
              success: false,
              errorReason: ERR_NONCE_USED,
              errorMessage: 'settlement of this authorization in progress',
              payer,
              transaction: '',
              network,
            },
      );
    }
    const call = startCallTrace(() => settleOnce(req, signature, network, payer));
    inFlight.set(inFlightKey, call.trace);
    const settled = call.done.finally(() => inFlight.delete(inFlightKey));
    const raced = await within(parts.settleTimeoutMs, settled);
    if (raced.kind === 'done') return raced.value;
    // Deadline passed: nothing not yet sent will be; a broadcast transfer is pending with its hash.
    call.trace.abandoned = true;
    const hash = call.trace.hashes[call.trace.hashes.length - 1];
    if (!hash) return late('settle', parts.settleTimeoutMs!);
    if (req.x402Version === 1) pendingV1.set(signature, hash);
    return ok({
      success: false,
      errorReason: ERR_SETTLEMENT_PENDING,
      errorMessage: `no receipt within the ${parts.settleTimeoutMs} ms settle deadline`,
      payer,
      transaction: hash,
      network,
    });
  }

  /** One settlement under the current call trace (startCallTrace). Never throws. */
  async function settleOnce(
    req: FacilitatorRequest,
    signature: string,
    network: string,
    payer: string | undefined,
  ): Promise<FacilitatorResult<SettleResponse>> {
    const trace = currentTrace();
    try {
      if (req.x402Version === 1) {
        const known = pendingV1.get(signature);
        if (known) return ok(await reconcileV1(signature, known, network, payer));
      }
      const result = await core.settle(
        req.paymentPayload as PaymentPayload,
        req.paymentRequirements as unknown as PaymentRequirements,
      );
      let answer = toSettle(result, payer);
      if (!answer.success && req.x402Version === 1) {
        const lastHash = trace.hashes[trace.hashes.length - 1];
        if (trace.receiptTimedOut && lastHash) {
          pendingV1.set(signature, lastHash);
          answer = {
            success: false,
            errorReason: ERR_SETTLEMENT_PENDING,
            errorMessage: answer.errorReason,
            transaction: lastHash,
            network: answer.network,
            payer: answer.payer,
          };
        } else if (answer.errorReason !== undefined && !WIRE_REASON.test(answer.errorReason)) {
          answer = {
            ...answer,
            errorReason: v1ReasonFromMessage(answer.errorReason),
            errorMessage: answer.errorReason.slice(0, 300),
          };
        }
      }
      // Nothing broadcast and the RPC failed: the negative answer is about the RPC, not the payment.
      if (!answer.success && trace.hashes.length === 0 && trace.transportFailure) {
        return unavailable(trace.transportFailure);
      }
      return ok(answer);
    } catch (err) {
      const transport = findTransportFailure(err);
      if (transport) return unavailable(transport);
      return ok({
        success: false,
        errorReason: REASON.unexpectedSettleError,
        errorMessage: short(err),
        payer,
        transaction: '',
        network,
      });
    }
  }

  function supported(): Promise<FacilitatorResult<SupportedResponse>> {
    const s = core.getSupported();
    const kinds: SupportedKind[] = s.kinds.map((k) => ({ ...k }));
    return Promise.resolve(
      ok({ kinds, extensions: s.extensions, signers: s.signers } as SupportedResponse),
    );
  }

  let closed = false;
  return {
    settlerAddress: settler.address,
    chainId: parts.chainId,
    networks: { v2: served.v2, v1: served.v1 },
    verify,
    settle,
    supported,
    settlerBalance: () => parts.balance(),
    close() {
      if (!closed) {
        closed = true;
        parts.close();
      }
      return Promise.resolve();
    },
  } satisfies LocalFacilitator;
}

// Re-exported for callers that classify receipt timeouts themselves.
export { WaitForTransactionReceiptTimeoutError };
