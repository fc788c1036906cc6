/**
 * The local signature check: refuse a forged EIP-3009 payment without a facilitator call, while
 * forgeries are likely (issue 13).
 *
 * - It runs only while the recent verify-failure ratio, gateway-wide or for the client address, is
 *   above `signatureCheck.failureRatio` (failure-window.ts): an honest payment in steady state pays
 *   nothing for it.
 * - It only ever refuses; it never accepts. A signature that recovers to `from` still goes to the
 *   facilitator, which checks what we cannot (balance, nonce state, simulation).
 * - The token and the reference facilitator tell an EOA from a contract wallet by code at `from`,
 *   not by signature length. So a 65-byte signature that does not recover to `from` is refused
 *   only when the chain says `from` has no code (cached); a contract wallet, an address the chain
 *   could not answer for, a network without an RPC, and every longer signature (ERC-1271/6492) go
 *   to the facilitator. Not knowing is never a refusal, and never a free pass.
 * - Only the native libsecp256k1 binding is used; without it the check stays off (start-up says so).
 */
import { LRUCache } from 'lru-cache';
import type { Address } from 'viem';
import type { ChainReader } from '../chains/index.js';
import type { SignatureCheckConfig } from '../config/index.js';
import { FailureTrigger } from './failure-window.js';
import {
  authorizationDigest,
  isPlainSignature,
  loadNativeRecovery,
  recoverSigner,
  type AuthorizationMessage,
  type NativeRecovery,
  type TokenDomain,
} from './signature.js';

/**
 * What one local check found. Only `refused` answers the payment; every other outcome sends it on
 * to the facilitator.
 */
export type LocalVerdict =
  /** 65-byte signature, not by `from`, and `from` has no code: the facilitator would refuse it. */
  | 'refused'
  /** The signature recovers to `from`. */
  | 'recovered'
  /** Not by `from`, but `from` has code (a contract wallet): ERC-1271 is the facilitator's. */
  | 'has_code'
  /** Not by `from`, and the chain could not say whether `from` has code. */
  | 'code_unknown'
  /** Not by `from`, and no RPC reads this network: nothing proves `from` code-free. */
  | 'no_rpc'
  /** Not a 65-byte signature (a smart wallet's ERC-1271/6492): always the facilitator's. */
  | 'long_signature'
  /** A field the digest cannot encode: left to the facilitator's own answer. */
  | 'unencodable';

export const LOCAL_VERDICTS: readonly LocalVerdict[] = Object.freeze([
  'refused',
  'recovered',
  'has_code',
  'code_unknown',
  'no_rpc',
  'long_signature',
  'unencodable',
]);

/**
 * At most this many `eth_getCode` lookups start per second, and this many at once: the check saves
 * facilitator calls, it must not spend the RPC's quota instead. A payment over the budget goes to
 * the facilitator (never a local refusal without the proof that `from` has no code).
 */
export const CODE_LOOKUPS_PER_SECOND = 500;
export const CODE_LOOKUPS_IN_FLIGHT = 128;

/** One payment, as the verify stage has it: our own offer's domain, the client's authorization. */
export interface LocalCheckInput {
  /** CAIP-2 network of the offer (the chain reader's key). */
  readonly network: string;
  readonly domain: TokenDomain;
  readonly authorization: AuthorizationMessage;
  readonly signature: string;
}

export interface LocalCheckOptions {
  readonly config: SignatureCheckConfig;
  /** CAIP-2 → chain reader; read at each lookup (the built-in facilitator's chain joins at start). */
  readonly chains: ReadonlyMap<string, ChainReader>;
  /** Epoch ms (tests inject a clock). */
  readonly now?: () => number;
  /** The native binding (tests pass a missing one). Default: `secp256k1/bindings`. */
  readonly native?: NativeRecovery;
}

export class LocalSignatureCheck {
  /** True when enabled and the native binding loaded. */
  readonly active: boolean;
  /** Why the check is on or off, for the start-up log. */
  readonly detail: string;
  readonly #native: NativeRecovery;
  /** The binding for {@link signedByFrom}: loaded even with the check disabled. */
  readonly #recovery: NativeRecovery;
  readonly #trigger: FailureTrigger;
  readonly #chains: ReadonlyMap<string, ChainReader>;
  /** `network|from` → has code; definite answers only, for `codeCacheTtlSeconds`. */
  readonly #code: LRUCache<string, boolean>;
  /** Lookups under way, so a flood for one `from` asks the chain once. */
  readonly #pending = new Map<string, Promise<boolean | undefined>>();
  /** Chain lookups started in the current second (the RPC's quota is bounded too). */
  #lookups = 0;
  #lookupSecond = 0;
  readonly #now: () => number;

  constructor(options: LocalCheckOptions) {
    const { config } = options;
    this.#native = !config.enabled
      ? { kind: 'missing', detail: 'signatureCheck.enabled is false' }
      : (options.native ?? loadNativeRecovery());
    this.#recovery =
      this.#native.kind === 'native' ? this.#native : (options.native ?? loadNativeRecovery());
    this.active = this.#native.kind === 'native';
    this.detail = this.active
      ? `on above a ${config.failureRatio} verify-failure ratio over ${config.windowSeconds} s`
      : `off: ${this.#native.kind === 'missing' ? this.#native.detail : ''}`;
    this.#trigger = new FailureTrigger({
      failureRatio: config.failureRatio,
      windowMs: config.windowSeconds * 1000,
      minVerdicts: config.minVerdicts,
      maxClients: config.maxClients,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    this.#chains = options.chains;
    this.#now = options.now ?? Date.now;
    this.#code = new LRUCache<string, boolean>({
      max: config.codeCacheEntries,
      ttl: config.codeCacheTtlSeconds * 1000,
      ...(options.now === undefined ? {} : { perf: { now: options.now }, ttlResolution: 0 }),
    });
  }

  /** Should this payment be checked locally before the facilitator is asked? */
  armed(client: string): boolean {
    return this.active && this.#trigger.armed(client);
  }

  /** One verify verdict for `client`: the facilitator's answer, or a local refusal. */
  record(client: string, isValid: boolean): void {
    if (this.active) this.#trigger.record(client, !isValid);
  }

  /**
   * Did `from`'s own key sign this authorization? True only when proven: the native binding is
   * loaded (whatever `enabled` says: this is not the check, only its recovery), the signature is
   * 65 bytes, and it recovers to `from`. The rate limits count a payer's failures only then.
   */
  signedByFrom(input: LocalCheckInput): boolean {
    const native = this.#recovery;
    if (native.kind !== 'native' || !isPlainSignature(input.signature)) return false;
    try {
      const digest = authorizationDigest(input.domain, input.authorization);
      return (
        recoverSigner(native.binding, digest, input.signature) ===
        input.authorization.from.toLowerCase()
      );
    } catch {
      return false;
    }
  }

  async check(input: LocalCheckInput): Promise<LocalVerdict> {
    if (this.#native.kind !== 'native') throw new Error('local signature check is off');
    if (!isPlainSignature(input.signature)) return 'long_signature';
    let digest: Buffer;
    try {
      digest = authorizationDigest(input.domain, input.authorization);
    } catch {
      return 'unencodable';
    }
    const signer = recoverSigner(this.#native.binding, digest, input.signature);
    const from = input.authorization.from.toLowerCase();
    if (signer === from) return 'recovered';
    const reader = this.#chains.get(input.network);
    if (reader?.hasCode === undefined) return 'no_rpc';
    const code = await this.#hasCode(reader, input.network, from as Address);
    if (code === undefined) return 'code_unknown';
    return code ? 'has_code' : 'refused';
  }

  async #hasCode(
    reader: ChainReader,
    network: string,
    from: Address,
  ): Promise<boolean | undefined> {
    const key = `${network}|${from}`;
    const known = this.#code.get(key);
    if (known !== undefined) return known;
    let pending = this.#pending.get(key);
    if (pending === undefined) {
      // A flood with a fresh random `from` on every header would trade each /verify for an
      // eth_getCode: past the budget the payment goes to the facilitator, as without an RPC.
      if (!this.#withinLookupBudget()) return undefined;
      pending = reader.hasCode!(from)
        .catch(() => undefined)
        .then((code) => {
          if (code !== undefined) this.#code.set(key, code);
          return code;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  #withinLookupBudget(): boolean {
    const second = Math.floor(this.#now() / 1000);
    if (second !== this.#lookupSecond) {
      this.#lookupSecond = second;
      this.#lookups = 0;
    }
    if (this.#lookups >= CODE_LOOKUPS_PER_SECOND || this.#pending.size >= CODE_LOOKUPS_IN_FLIGHT) {
      return false;
    }
    this.#lookups++;
    return true;
  }
}
