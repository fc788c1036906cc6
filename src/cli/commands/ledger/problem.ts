/**
 * A problem a `ledger` subcommand met (no such file, no such record, a record in the wrong
 * state): printed as one line on stderr, exit 1. Usage errors are `UsageError` (exit 2).
 */
export class LedgerProblem extends Error {
  readonly code = 'GW_ERR_LEDGER_COMMAND';
  constructor(message: string) {
    super(message);
    this.name = 'LedgerProblem';
  }
}
