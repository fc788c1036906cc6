/**
 * A real facilitator for tests: a node:http server on 127.0.0.1, port 0, answering POST /verify,
 * POST /settle and GET /supported (under any base path) for v1 and v2 `exact` EVM payments.
 *
 * It checks REAL EIP-712 signatures (viem `verifyTypedData`, recovering `authorization.from`) and
 * the reference facilitator's rules (docs/protocol.md §8), and keeps an in-memory "chain": used
 * nonces, per-payer balances and the transfers made. Modes script the failure rows of the
 * gateway's tests.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getAddress, isAddress, type Address, type Hex } from 'viem';
import { findNetwork } from '../../src/chains/networks.js';
import { eip3009Domain, verifyTransferWithAuthorization } from './eip3009.js';

export type TestFacilitatorMode =
  | 'normal'
  /** /verify never answers (until close). */
  | 'verify-timeout'
  /** /verify answers HTTP 500 with a structured-looking body `{isValid:false,…}`. */
  | 'verify-500'
  /** /verify answers 200 with a non-JSON body. */
  | 'verify-garbage'
  /** /verify destroys the socket without answering. */
  | 'verify-refuse'
  /** /settle never answers (until close). */
  | 'settle-timeout'
  /** /settle answers HTTP 500 with a plain-text body. */
  | 'settle-500'
  /** /settle refuses before any broadcast (`insufficient balance`): no money moves. */
  | 'settle-decline'
  /** /settle answers `{success:false, errorReason:'invalid_transaction_state'}`, no money moves. */
  | 'settle-fail-unlisted'
  /** /settle moves the money, then answers HTTP 500 `{success:false, errorReason:'insufficient_funds'}`. */
  | 'settle-500-failure-body'
  /** /settle moves the money but answers HTTP 500 `settlement_pending` + tx hash, every time. */
  | 'settle-pending'
  /** Like settle-pending on the first call; the identical retry succeeds with the same hash. */
  | 'settle-pending-once'
  /**
   * The facilitator dropped every network: /supported lists no kinds, and /verify answers HTTP 400
   * `{isValid:false, invalidReason:'invalid_network'}` (not the payer's fault).
   */
  | 'network-dropped';

/** Reasons this facilitator answers with (spec names, docs/protocol.md §7–§8). */
export const REASONS = {
  invalidPayload: 'invalid_payload',
  invalidVersion: 'invalid_x402_version',
  invalidNetwork: 'invalid_network',
  scheme: 'invalid_exact_evm_scheme',
  networkMismatch: 'invalid_exact_evm_network_mismatch',
  missingDomain: 'invalid_exact_evm_missing_eip712_domain',
  signature: 'invalid_exact_evm_payload_signature',
  recipient: 'invalid_exact_evm_payload_recipient_mismatch',
  validBefore: 'invalid_exact_evm_payload_authorization_valid_before',
  validAfter: 'invalid_exact_evm_payload_authorization_valid_after',
  /** v1 amount rule. */
  valueV1: 'invalid_exact_evm_payload_authorization_value',
  /** v2 amount rule. */
  valueV2: 'invalid_exact_evm_payload_authorization_value_mismatch',
  nonceUsed: 'invalid_exact_evm_nonce_already_used',
  insufficientBalance: 'invalid_exact_evm_insufficient_balance',
  transactionState: 'invalid_transaction_state',
  settlementPending: 'settlement_pending',
} as const;

export interface SupportedKindRecord {
  readonly x402Version: number;
  readonly scheme: string;
  readonly network: string;
  readonly extra?: Record<string, unknown>;
}

/** Kinds answered by GET /supported unless configured. */
export const DEFAULT_SUPPORTED_KINDS: readonly SupportedKindRecord[] = [
  { x402Version: 1, scheme: 'exact', network: 'base' },
  { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
  { x402Version: 2, scheme: 'exact', network: 'eip155:8453' },
  { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
];

export interface TestFacilitatorOptions {
  readonly mode?: TestFacilitatorMode;
  /** Delay before every answer, ms. Default 0. */
  readonly latencyMs?: number;
  readonly supportedKinds?: readonly SupportedKindRecord[];
  /** Balance of any payer not set with `setBalance`. Default 10^12 atomic units. */
  readonly defaultBalance?: bigint;
  /** Clock in unix seconds for the time-window checks. Default the real time. */
  readonly nowSec?: () => number;
  /**
   * Checks every request before it is routed (e.g. CDP's JWT: cdp-jwt-check.ts): a string is the
   * reason it is refused with 401 `{ error }`, uncounted in `calls`. Default: no check.
   */
  readonly authorize?: (request: {
    readonly method: string;
    readonly path: string;
    readonly headers: http.IncomingHttpHeaders;
  }) => Promise<string | undefined>;
}

export interface FacilitatorRequestRecord {
  readonly method: string;
  /** Path as received (with any base path, without the query). */
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it is not JSON, or undefined when empty. */
  readonly body: unknown;
}

export interface TransferRecord {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly nonce: Hex;
  readonly asset: Address;
  readonly network: string;
  readonly transaction: Hex;
}

export interface TestFacilitator {
  /** Base URL, `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** Requests received per endpoint, whatever the mode did with them. */
  readonly calls: { verify: number; settle: number; supported: number };
  readonly requests: FacilitatorRequestRecord[];
  /** Transfers the fake chain executed, in order. */
  readonly transfers: TransferRecord[];
  /** TCP connections accepted so far (keep-alive reuse shows as a small number). */
  readonly connections: number;
  setMode(mode: TestFacilitatorMode): void;
  /** Delay before every answer, or (with `op`) before that endpoint's answers only. */
  setLatency(ms: number, op?: 'verify' | 'settle' | 'supported'): void;
  setBalance(address: string, value: bigint): void;
  /** Stop listening, end hanging requests and open sockets; resolves quickly. */
  close(): Promise<void>;
}

type Verdict =
  | { readonly ok: true; readonly ctx: PaymentContext }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly payer?: string;
      readonly network: string;
    };

interface PaymentContext {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly nonce: Hex;
  readonly signature: Hex;
  readonly asset: Address;
  readonly network: string;
  /** `(chainId, asset, from, nonce)`, the on-chain replay key. */
  readonly nonceKey: string;
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

const MAX_BODY_BYTES = 1024 * 1024;
const DECIMAL = /^\d+$/;
const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const HEX = /^0x[0-9a-fA-F]*$/;

/** Start a test facilitator on 127.0.0.1, port 0. */
export async function startTestFacilitator(
  options: TestFacilitatorOptions = {},
): Promise<TestFacilitator> {
  let mode: TestFacilitatorMode = options.mode ?? 'normal';
  let latencyMs = options.latencyMs ?? 0;
  const opLatencyMs = new Map<string, number>();
  const nowSec = options.nowSec ?? (() => Math.floor(Date.now() / 1000));
  const defaultBalance = options.defaultBalance ?? 10n ** 12n;
  const kinds = options.supportedKinds ?? DEFAULT_SUPPORTED_KINDS;
  const signer = getAddress(`0x${randomBytes(20).toString('hex')}`);

  const calls = { verify: 0, settle: 0, supported: 0 };
  const requests: FacilitatorRequestRecord[] = [];
  const transfers: TransferRecord[] = [];
  const balances = new Map<string, bigint>();
  const usedNonces = new Set<string>();
  /** Broadcast but answered as pending: nonce key → signature + tx, for the reconciling retry. */
  const pending = new Map<string, { signature: Hex; transaction: Hex }>();
  const hanging = new Set<http.ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let connections = 0;
  let closed = false;

  const balanceOf = (a: Address): bigint => balances.get(a.toLowerCase()) ?? defaultBalance;

  async function check(envelope: unknown): Promise<Verdict> {
    const env = asRecord(envelope);
    const version = env?.x402Version;
    const payment = asRecord(env?.paymentPayload);
    const req = asRecord(env?.paymentRequirements);
    const reqNetwork = typeof req?.network === 'string' ? req.network : '';
    const bad = (reason: string, payer?: string): Verdict => ({
      ok: false,
      reason,
      payer,
      network: reqNetwork,
    });
    if (env === undefined || payment === undefined || req === undefined) {
      return bad(REASONS.invalidPayload);
    }
    if ((version !== 1 && version !== 2) || payment.x402Version !== version) {
      return bad(REASONS.invalidVersion);
    }
    const evm = asRecord(payment.payload);
    const auth = asRecord(evm?.authorization);
    const signature = evm?.signature;
    if (
      auth === undefined ||
      typeof signature !== 'string' ||
      !HEX.test(signature) ||
      !isAddressString(auth.from) ||
      !isAddressString(auth.to) ||
      !isDecimal(auth.value) ||
      !isDecimal(auth.validAfter) ||
      !isDecimal(auth.validBefore) ||
      typeof auth.nonce !== 'string' ||
      !BYTES32.test(auth.nonce)
    ) {
      return bad(REASONS.invalidPayload);
    }
    const payer = getAddress(auth.from);
    const accepted = version === 2 ? asRecord(payment.accepted) : payment;
    if (accepted === undefined) return bad(REASONS.invalidPayload, payer);

    // 1. scheme, EIP-712 domain hints, network.
    if (accepted.scheme !== 'exact' || req.scheme !== 'exact') return bad(REASONS.scheme, payer);
    const extra = asRecord(req.extra);
    if (
      typeof extra?.name !== 'string' ||
      typeof extra.version !== 'string' ||
      extra.name === '' ||
      extra.version === ''
    ) {
      return bad(REASONS.missingDomain, payer);
    }
    const network = findNetwork(reqNetwork);
    // v1 requirements name the network (`base`), v2 ones use CAIP-2 (`eip155:8453`).
    if (network === undefined || (version === 1 ? network.v1Name : network.caip2) !== reqNetwork) {
      return bad(REASONS.invalidNetwork, payer);
    }
    if (accepted.network !== reqNetwork) return bad(REASONS.networkMismatch, payer);
    if (!isAddressString(req.asset) || !isAddressString(req.payTo)) {
      return bad(REASONS.invalidPayload, payer);
    }
    const amount = version === 1 ? req.maxAmountRequired : req.amount;
    if (!isDecimal(amount)) return bad(REASONS.invalidPayload, payer);

    // 2. signature, recovered against authorization.from.
    const message = {
      from: payer,
      to: getAddress(auth.to),
      value: BigInt(auth.value),
      validAfter: BigInt(auth.validAfter),
      validBefore: BigInt(auth.validBefore),
      nonce: auth.nonce as Hex,
    };
    const signed = await verifyTransferWithAuthorization(
      payer,
      eip3009Domain(extra.name, extra.version, network.chainId, req.asset),
      message,
      signature as Hex,
    );
    if (!signed) return bad(REASONS.signature, payer);

    // 3. recipient; 4. time window (6 s block-time buffer); 5. exact amount.
    if (message.to !== getAddress(req.payTo)) return bad(REASONS.recipient, payer);
    const now = BigInt(nowSec());
    if (message.validBefore < now + 6n) return bad(REASONS.validBefore, payer);
    if (message.validAfter > now) return bad(REASONS.validAfter, payer);
    if (message.value !== BigInt(amount)) {
      return bad(version === 1 ? REASONS.valueV1 : REASONS.valueV2, payer);
    }

    // 6. "simulation" against the fake chain.
    const asset = getAddress(req.asset);
    const nonceKey = `${network.chainId}:${asset}:${payer}:${message.nonce.toLowerCase()}`;
    if (usedNonces.has(nonceKey)) return bad(REASONS.nonceUsed, payer);
    if (balanceOf(payer) < message.value) return bad(REASONS.insufficientBalance, payer);
    return {
      ok: true,
      ctx: {
        from: payer,
        to: message.to,
        value: message.value,
        nonce: message.nonce,
        signature: signature as Hex,
        asset,
        network: reqNetwork,
        nonceKey,
      },
    };
  }

  function execute(ctx: PaymentContext): Hex {
    const transaction: Hex = `0x${randomBytes(32).toString('hex')}`;
    usedNonces.add(ctx.nonceKey);
    balances.set(ctx.from.toLowerCase(), balanceOf(ctx.from) - ctx.value);
    transfers.push({
      from: ctx.from,
      to: ctx.to,
      value: ctx.value,
      nonce: ctx.nonce,
      asset: ctx.asset,
      network: ctx.network,
      transaction,
    });
    return transaction;
  }

  async function verify(body: unknown): Promise<Reply> {
    const v = await check(body);
    if (v.ok) return json(200, { isValid: true, payer: v.ctx.from });
    return json(v.reason === REASONS.invalidPayload ? 400 : 200, {
      isValid: false,
      invalidReason: v.reason,
      ...(v.payer === undefined ? {} : { payer: v.payer }),
    });
  }

  async function settle(body: unknown): Promise<Reply> {
    const reconciled = reconcile(body);
    if (reconciled !== undefined) return reconciled;
    const v = await check(body);
    if (!v.ok) {
      return json(v.reason === REASONS.invalidPayload ? 400 : 200, {
        success: false,
        errorReason: v.reason,
        transaction: '',
        network: v.network,
        ...(v.payer === undefined ? {} : { payer: v.payer }),
      });
    }
    const { ctx } = v;
    if (mode === 'settle-decline' || mode === 'settle-fail-unlisted') {
      return json(200, {
        success: false,
        errorReason:
          mode === 'settle-decline' ? REASONS.insufficientBalance : REASONS.transactionState,
        transaction: '',
        network: ctx.network,
        payer: ctx.from,
      });
    }
    const transaction = execute(ctx);
    if (mode === 'settle-500-failure-body') {
      return json(500, {
        success: false,
        errorReason: 'insufficient_funds',
        transaction: '',
        network: ctx.network,
        payer: ctx.from,
      });
    }
    if (mode === 'settle-pending' || mode === 'settle-pending-once') {
      pending.set(ctx.nonceKey, { signature: ctx.signature, transaction });
      return pendingReply(transaction, ctx.network, ctx.from);
    }
    return json(200, { success: true, transaction, network: ctx.network, payer: ctx.from });
  }

  /**
   * A retry of a settlement answered as pending: the identical payload gets the already-broadcast
   * tx (success, or pending again in `settle-pending` mode), as CDP reconciles it.
   */
  function reconcile(body: unknown): Reply | undefined {
    const env = asRecord(body);
    const req = asRecord(env?.paymentRequirements);
    const evm = asRecord(asRecord(env?.paymentPayload)?.payload);
    const auth = asRecord(evm?.authorization);
    const network = typeof req?.network === 'string' ? findNetwork(req.network) : undefined;
    if (network === undefined || !isAddressString(req?.asset) || !isAddressString(auth?.from)) {
      return undefined;
    }
    if (typeof auth.nonce !== 'string' || typeof evm?.signature !== 'string') return undefined;
    const from = getAddress(auth.from);
    const key = `${network.chainId}:${getAddress(req.asset)}:${from}:${auth.nonce.toLowerCase()}`;
    const entry = pending.get(key);
    if (entry === undefined || entry.signature !== evm.signature) return undefined;
    const networkName = req.network as string;
    if (mode === 'settle-pending') return pendingReply(entry.transaction, networkName, from);
    pending.delete(key);
    return json(200, {
      success: true,
      transaction: entry.transaction,
      network: networkName,
      payer: from,
    });
  }

  function supported(): Reply {
    const listed = mode === 'network-dropped' ? [] : kinds;
    return json(200, { kinds: listed, extensions: [], signers: { 'eip155:*': [signer] } });
  }

  async function route(
    path: string,
    method: string,
    body: unknown,
  ): Promise<Reply | 'hang' | 'refuse'> {
    if (method === 'POST' && path.endsWith('/verify')) {
      calls.verify++;
      if (mode === 'verify-timeout') return 'hang';
      if (mode === 'verify-refuse') return 'refuse';
      if (mode === 'verify-500') {
        return json(500, { isValid: false, invalidReason: 'unexpected_verify_error' });
      }
      if (mode === 'verify-garbage') {
        return { status: 200, body: '<html>upstream proxy error</html>', contentType: 'text/html' };
      }
      if (mode === 'network-dropped') {
        return json(400, { isValid: false, invalidReason: REASONS.invalidNetwork });
      }
      return verify(body);
    }
    if (method === 'POST' && path.endsWith('/settle')) {
      calls.settle++;
      if (mode === 'settle-timeout') return 'hang';
      if (mode === 'settle-500') {
        return { status: 500, body: 'Internal Server Error', contentType: 'text/plain' };
      }
      return settle(body);
    }
    if (method === 'GET' && path.endsWith('/supported')) {
      calls.supported++;
      return supported();
    }
    return json(404, { error: 'not found' });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text === '' ? undefined : parseJsonOrText(text);
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const method = req.method ?? 'GET';
      requests.push({ method, path, headers: req.headers, body });
      const authorize = options.authorize;
      const answer =
        authorize === undefined
          ? route(path, method, body)
          : authorize({ method, path, headers: req.headers }).then((denied) =>
              denied === undefined ? route(path, method, body) : json(401, { error: denied }),
            );
      void answer.then((reply) => {
        if (reply === 'refuse') {
          req.socket.destroy();
          return;
        }
        if (reply === 'hang') {
          hanging.add(res);
          res.on('close', () => hanging.delete(res));
          return;
        }
        const send = (): void => {
          if (res.destroyed) return;
          res.writeHead(reply.status, {
            'content-type': reply.contentType ?? 'application/json',
            'content-length': Buffer.byteLength(reply.body),
          });
          res.end(reply.body);
        };
        const op = path.slice(path.lastIndexOf('/') + 1);
        const delay = opLatencyMs.get(op) ?? latencyMs;
        if (delay <= 0) {
          send();
          return;
        }
        const t = setTimeout(() => {
          timers.delete(t);
          send();
        }, delay);
        timers.add(t);
      });
    });
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    requests,
    transfers,
    get connections() {
      return connections;
    },
    setMode(next) {
      mode = next;
    },
    setLatency(ms, op) {
      if (op === undefined) latencyMs = ms;
      else opLatencyMs.set(op, ms);
    },
    setBalance(address, value) {
      balances.set(address.toLowerCase(), value);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const res of hanging) res.destroy();
      hanging.clear();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}

function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) };
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function isDecimal(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value);
}

function isAddressString(value: unknown): value is string {
  return typeof value === 'string' && isAddress(value, { strict: false });
}

function pendingReply(transaction: Hex, network: string, payer: Address): Reply {
  return json(500, {
    success: false,
    errorReason: REASONS.settlementPending,
    transaction,
    network,
    payer,
  });
}
