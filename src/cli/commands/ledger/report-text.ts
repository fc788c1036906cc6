/**
 * `ledger report` for humans: aligned tables, token units beside atomic units.
 */
import { LEDGER_STATES } from '../../../ledger/index.js';
import { table } from './format.js';
import type { AmountTotal, GroupReport, UndeliveredReport } from './report-data.js';

/** Columns COUNT, AMOUNT (token units), ATOMIC: aligned right. */
function amountCells(t: AmountTotal): string[] {
  return [String(t.count), t.amountUnits, t.amount];
}

function sinceText(since: string | null): string {
  return since === null ? 'all time' : `since ${since}`;
}

function paidText(paid: readonly AmountTotal[]): string {
  if (paid.length === 0) return 'paid (settled|confirmed|disputed): none\n';
  return `paid (settled|confirmed|disputed):\n${table(
    [
      ['NETWORK', 'ASSET', 'COUNT', 'AMOUNT', 'ATOMIC'],
      ...paid.map((t) => [t.network, t.asset, ...amountCells(t)]),
    ],
    new Set([2, 3, 4]),
  )}`;
}

export function groupText(report: GroupReport): string {
  const which =
    report.states.length === LEDGER_STATES.length
      ? 'every record'
      : `${report.states.join('|')} records`;
  let text = `ledger ${report.ledger}: ${which} by ${report.by}, ${sinceText(report.since)}\n`;
  if (report.groups.length === 0) return `${text}no records\n`;
  text += table(
    [
      [report.by.toUpperCase(), 'NETWORK', 'ASSET', 'COUNT', 'AMOUNT', 'ATOMIC'],
      ...report.groups.map((g) => [g.group, g.network, g.asset, ...amountCells(g)]),
    ],
    new Set([3, 4, 5]),
  );
  return `${text}\n${paidText(report.paid)}`;
}

export function undeliveredText(report: UndeliveredReport): string {
  const n = report.payments.length;
  let text =
    `ledger ${report.ledger}: ${n} paid payment${n === 1 ? '' : 's'} never delivered ` +
    `(refund candidates), ${sinceText(report.since)}\n`;
  if (n === 0) return text;
  text += table(
    [
      ['KEY', 'PAYER', 'AMOUNT', 'ATOMIC', 'NETWORK', 'ASSET', 'TX', 'SETTLED AT', 'ROUTE', 'PATH'],
      ...report.payments.map((p) => [
        p.key,
        p.payer,
        p.amountUnits,
        p.amount,
        p.network,
        p.asset,
        p.transaction ?? '-',
        p.settledAt ?? '-',
        p.route,
        p.path,
      ]),
    ],
    new Set([2, 3]),
  );
  text += `\ntotal to refund:\n${table(
    [
      ['NETWORK', 'ASSET', 'COUNT', 'AMOUNT', 'ATOMIC'],
      ...report.totals.map((t) => [t.network, t.asset, ...amountCells(t)]),
    ],
    new Set([2, 3, 4]),
  )}`;
  return text;
}
