/**
 * Text for the `ledger` subcommands: token amounts from atomic units (integer arithmetic only),
 * CSV fields, aligned tables.
 */

/**
 * Atomic units → token units as decimal text, with BigInt only (a float would round amounts above
 * 2^53 and print 0.1 + 0.2 wrong): `formatUnits(1500000n, 6)` is `"1.5"`, trailing zeros dropped.
 */
export function formatUnits(atomic: bigint | string, decimals: number): string {
  const value = typeof atomic === 'bigint' ? atomic : BigInt(atomic);
  if (!Number.isInteger(decimals) || decimals < 0) {
    throw new RangeError(`decimals must be a non-negative integer, not ${decimals}`);
  }
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  if (decimals === 0) return `${sign}${abs}`;
  const scale = 10n ** BigInt(decimals);
  const whole = abs / scale;
  const fraction = (abs % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or edge spaces. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line, ended by `\n`. */
export function csvLine(values: ReadonlyArray<string | number | undefined>): string {
  return `${values.map(csvField).join(',')}\n`;
}

/**
 * Text safe to print on a terminal: control characters (a client's path may hold escape
 * sequences) are shown as `\u` escapes.
 */
export function printable(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Rows as aligned columns, two spaces apart, made printable; the columns whose index is in
 * `right` are aligned to the right (numbers). The last column is not padded.
 */
export function table(
  rows: ReadonlyArray<readonly string[]>,
  right: ReadonlySet<number> = new Set(),
): string {
  const cells = rows.map((row) => row.map(printable));
  const widths: number[] = [];
  for (const row of cells)
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => {
          if (right.has(i)) return cell.padStart(widths[i]!);
          return i === row.length - 1 ? cell : cell.padEnd(widths[i]!);
        })
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}
