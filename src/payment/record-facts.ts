/**
 * Between a payment and its record: the facts the book keeps when a settlement begins, and the
 * offer a later retry is held to, rebuilt from the record alone. A retry is matched against what
 * was paid then, never against today's price table: a price change must not turn it into a 402.
 */
import type { Address } from 'viem';
import { findNetwork } from '../chains/index.js';
import type { LedgerRecord, PaymentFacts as RecordFacts } from '../ledger/index.js';
import type { FacilitatorRequest } from '../verify/index.js';
import type { Offer, PaymentRequirementsV2 } from '../x402/index.js';

export interface SettlementFacts {
  readonly key: string;
  readonly digest: string;
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly offer: Offer;
  readonly payer: string;
  readonly nonce: string;
  readonly validBefore: number;
  readonly x402Version: number;
  /** The `/settle` body as sent (verify/facilitator.ts `requestBody`, serialised once). */
  readonly request: string;
}

/** The record's facts, fixed when its settlement begins. */
export function recordFacts(f: SettlementFacts): RecordFacts {
  return {
    key: f.key,
    digest: f.digest,
    x402Version: f.x402Version,
    route: f.route,
    method: f.method,
    path: f.path,
    network: f.offer.network.caip2,
    // As the offer spells them (checksummed): revenue's metric labels use the same spelling.
    asset: f.offer.asset.address,
    decimals: f.offer.asset.decimals,
    payTo: f.offer.payTo,
    payer: f.payer.toLowerCase(),
    amount: f.offer.amountText,
    nonce: f.nonce.toLowerCase(),
    // A client may sign up to uint256 max: the record keeps what a number holds exactly.
    validBefore: Math.min(f.validBefore, Number.MAX_SAFE_INTEGER),
    request: f.request,
  };
}

/** What a recalled record needs to be settled or served again, rebuilt from the record alone. */
export interface Recalled {
  readonly record: LedgerRecord;
  readonly offer: Offer;
  /** The `/settle` body exactly as first sent. */
  readonly request: FacilitatorRequest;
}

/** Undefined when the record cannot be read back (an unknown network, a damaged request). */
export function recall(record: LedgerRecord): Recalled | undefined {
  const network = findNetwork(record.network);
  if (network === undefined) return undefined;
  let request: FacilitatorRequest;
  try {
    request = JSON.parse(record.request) as FacilitatorRequest;
  } catch {
    return undefined;
  }
  const req = request.paymentRequirements as Partial<PaymentRequirementsV2> & {
    readonly extra?: { readonly name: string; readonly version: string };
  };
  const extra = req.extra ?? { name: '', version: '' };
  const requirementsV2: PaymentRequirementsV2 = Object.freeze({
    scheme: 'exact',
    network: network.caip2,
    amount: record.amount,
    asset: record.asset,
    payTo: record.payTo,
    maxTimeoutSeconds: req.maxTimeoutSeconds ?? 0,
    extra,
  });
  const offer: Offer = Object.freeze({
    network,
    asset: Object.freeze({
      address: record.asset as Address,
      decimals: record.decimals,
      name: extra.name,
      version: extra.version,
    }),
    payTo: record.payTo as Address,
    amount: BigInt(record.amount),
    amountText: record.amount,
    maxTimeoutSeconds: requirementsV2.maxTimeoutSeconds,
    requirementsV2,
  });
  return { record, offer, request };
}
