/**
 * What `ledger report` computes: sums per group (state, route, day or payer), network and asset,
 * as BigInt over the records one at a time; and the list of paid payments never delivered.
 */
import {
  LEDGER_STATES,
  PAID_STATES,
  type LedgerRecord,
  type LedgerState,
} from '../../../ledger/index.js';
import { isoTime } from './common.js';
import { formatUnits } from './format.js';

export const GROUPINGS = ['state', 'route', 'day', 'payer', 'owner'] as const;

/**
 * The `owner` group of a record no instance owns: on Postgres, settled outside a running gateway
 * (an operator's resolve, an offline reconcile) and counted by no instance yet; on SQLite, every
 * record (one file, one gateway: owners are not recorded).
 */
export const NO_OWNER = '(none)';
export type Grouping = (typeof GROUPINGS)[number];

/** The sum of some records of one asset on one network. */
export interface AmountTotal {
  readonly network: string;
  readonly asset: string;
  readonly decimals: number;
  readonly count: number;
  /** Atomic units, decimal text. */
  readonly amount: string;
  /** Token units (`amount` / 10^decimals), decimal text. */
  readonly amountUnits: string;
}

export interface GroupTotal extends AmountTotal {
  /** The state, route, UTC day (YYYY-MM-DD), payer or owner. */
  readonly group: string;
}

export interface GroupReport {
  readonly ledger: string;
  /** ISO time, or null for every record. */
  readonly since: string | null;
  readonly by: Grouping;
  /** The states counted. */
  readonly states: readonly LedgerState[];
  readonly groups: readonly GroupTotal[];
  /** The paid records (settled|confirmed|disputed) among those counted. */
  readonly paid: readonly AmountTotal[];
}

export interface UndeliveredPayment {
  readonly key: string;
  readonly state: LedgerState;
  readonly payer: string;
  readonly network: string;
  readonly asset: string;
  readonly decimals: number;
  readonly amount: string;
  readonly amountUnits: string;
  readonly transaction: string | null;
  /** ISO time, or null when the record has none. */
  readonly settledAt: string | null;
  readonly route: string;
  readonly method: string;
  readonly path: string;
}

export interface UndeliveredReport {
  readonly ledger: string;
  readonly since: string | null;
  readonly state: 'undelivered';
  readonly payments: readonly UndeliveredPayment[];
  readonly totals: readonly AmountTotal[];
}

/** Sums per (label, network, asset, decimals); the decimals are part of the key, never mixed. */
class Totals {
  readonly #sums = new Map<
    string,
    { label: string; network: string; asset: string; decimals: number; count: number; sum: bigint }
  >();

  add(label: string, r: LedgerRecord): void {
    const id = JSON.stringify([label, r.network, r.asset, r.decimals]);
    let t = this.#sums.get(id);
    if (t === undefined) {
      t = { label, network: r.network, asset: r.asset, decimals: r.decimals, count: 0, sum: 0n };
      this.#sums.set(id, t);
    }
    t.count += 1;
    t.sum += BigInt(r.amount);
  }

  /** Sorted by label (`order` first when given, else text), network, then asset. */
  list(order?: (label: string) => number): Array<AmountTotal & { readonly label: string }> {
    const byLabel = (a: string, b: string) =>
      order !== undefined ? order(a) - order(b) : compareText(a, b);
    return [...this.#sums.values()]
      .sort(
        (a, b) =>
          byLabel(a.label, b.label) ||
          compareText(a.network, b.network) ||
          compareText(a.asset, b.asset) ||
          a.decimals - b.decimals,
      )
      .map((t) => ({
        label: t.label,
        network: t.network,
        asset: t.asset,
        decimals: t.decimals,
        count: t.count,
        amount: t.sum.toString(),
        amountUnits: formatUnits(t.sum, t.decimals),
      }));
  }
}

/** Code-unit order: the same on every machine, whatever its locale. */
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const withoutLabel = ({ label: _label, ...total }: AmountTotal & { label: string }) => total;

function groupOf(by: Grouping, r: LedgerRecord): string {
  switch (by) {
    case 'state':
      return r.state;
    case 'route':
      return r.route;
    case 'day':
      return isoTime(r.createdAt).slice(0, 10);
    case 'payer':
      return r.payer;
    case 'owner':
      return r.owner ?? NO_OWNER;
  }
}

export async function groupReport(
  records: Iterable<LedgerRecord> | AsyncIterable<LedgerRecord>,
  ledger: string,
  sinceIso: string | null,
  by: Grouping,
  states: readonly LedgerState[],
): Promise<GroupReport> {
  const counted = new Set(states);
  const paid = new Set(PAID_STATES);
  const groups = new Totals();
  const paidTotals = new Totals();
  // One record at a time: a report over millions of records holds only its sums.
  for await (const r of records) {
    if (!counted.has(r.state)) continue;
    groups.add(groupOf(by, r), r);
    if (paid.has(r.state)) paidTotals.add('', r);
  }
  const stateOrder = (s: string) => LEDGER_STATES.indexOf(s as LedgerState);
  return {
    ledger,
    since: sinceIso,
    by,
    states: [...states],
    groups: groups
      .list(by === 'state' ? stateOrder : undefined)
      .map(({ label, ...total }) => ({ group: label, ...total })),
    paid: paidTotals.list().map(withoutLabel),
  };
}

/** `records`: the paid records never delivered (the book's `list({ undelivered: true })`). */
export function undeliveredReport(
  records: readonly LedgerRecord[],
  ledger: string,
  sinceIso: string | null,
): UndeliveredReport {
  const totals = new Totals();
  for (const r of records) totals.add('', r);
  return {
    ledger,
    since: sinceIso,
    state: 'undelivered',
    payments: records.map((r) => ({
      key: r.key,
      state: r.state,
      payer: r.payer,
      network: r.network,
      asset: r.asset,
      decimals: r.decimals,
      amount: r.amount,
      amountUnits: formatUnits(r.amount, r.decimals),
      transaction: r.transaction ?? null,
      settledAt: r.settledAt === undefined ? null : isoTime(r.settledAt),
      route: r.route,
      method: r.method,
      path: r.path,
    })),
    totals: totals.list().map(withoutLabel),
  };
}
