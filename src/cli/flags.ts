/**
 * Flag parsing shared by every command, so each command's options read the same way and a bad
 * value is refused with the same message shape. Errors thrown here are usage errors (exit 2).
 */
import { parseArgs } from 'node:util';

/** Thrown for a flag value outside its range; the CLI prints it with the usage text (exit 2). */
export class UsageError extends Error {
  readonly code = 'GW_ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * An integer flag in `[min, max]`: `fallback` when absent, a {@link UsageError} naming the flag when
 * not an integer in range.
 */
export function intFlag<F extends number | undefined>(
  value: string | undefined,
  name: string,
  fallback: F,
  min: number,
  max: number,
): number | F {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}]`);
  }
  return n;
}

/**
 * The `--config FILE` (`-c`) of a command that takes nothing else (or also `--ledger PATH`, when
 * `withLedger`); undefined when absent. Any other flag is a usage error: `validate --ledger x`
 * must not look as if it checked a ledger.
 */
export function configFlag(args: readonly string[], withLedger = false): string | undefined {
  return fileFlags(args, withLedger).config;
}

/** `--ledger PATH`: the ledger file, instead of the config's `ledger.sqlite.path`. */
export function ledgerFlag(args: readonly string[]): string | undefined {
  return fileFlags(args, true).ledger;
}

/** `--watch`: `start` reloads its config when the file changes (SIGHUP always does). */
export function watchFlag(args: readonly string[]): boolean {
  return fileFlags(args, true).watch === true;
}

function fileFlags(
  args: readonly string[],
  withLedger: boolean,
): { config?: string; ledger?: string; watch?: boolean } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      config: { type: 'string', short: 'c' },
      // `start`'s own flags.
      ...(withLedger ? { ledger: { type: 'string' }, watch: { type: 'boolean' } } : {}),
    },
    strict: true,
    allowPositionals: false,
  });
  return values as { config?: string; ledger?: string; watch?: boolean };
}
