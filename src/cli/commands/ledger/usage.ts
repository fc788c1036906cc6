/**
 * The `ledger` command's usage text, apart from the command so the top-level help can show it
 * without loading SQLite.
 */
export const LEDGER_SYNOPSIS =
  'x402-gateway ledger SUBCOMMAND (--ledger PATH | --config FILE) [options]';

/** The subcommands and options, for the top-level help and the usage text. */
export const LEDGER_HELP = `  Reads the book of record directly: the gateway's SQLite ledger file (run it against a stopped
  gateway; report, export and backup are also safe while one runs; reconcile --admin asks a
  running one), or the fleet's Postgres database (--config FILE with ledger.postgres: report,
  export, resolve and reconcile are safe beside running instances; no backup: use pg_dump).

  report [--since DATE|DURATION] [--by state|route|day|payer|owner] [--state STATE|undelivered] [--json]
        count and amount (token units and atomic units) per group, network and asset;
        by state (default) counts every record, by route|day|payer only paid ones
        (settled|confirmed|disputed) unless --state names one; day = UTC day the record was made.
        --state undelivered lists the paid payments never delivered (refund candidates);
        by owner: the instance that counted each paid record's revenue on a Postgres ledger,
        (none) for one settled outside a running gateway and not yet adopted (always on SQLite)
  export --format csv|jsonl [--since DATE|DURATION] [--out FILE]
        every record, one per line, to stdout or to FILE (never overwritten)
  resolve KEY --as settled|failed --note TEXT
        an operator's decision on an unresolved (settling|unknown) record, kept with the note
        in the record's resolutions
  backup PATH
        a consistent copy of the ledger at PATH (SQLite's online backup; PATH must not exist);
        a Postgres ledger is refused: pg_dump --format=custom --file=PATH URL
  reconcile --admin URL [--json]
        one reconciliation pass by the running gateway (POST URL/ledger/reconcile on its admin
        listener, server.admin): its revenue metric sees what the pass settles
  reconcile --config FILE [--ledger PATH] [--json]
        one reconciliation pass offline, against a stopped gateway: the chain is read through the
        config's rpcUrls and facilitator.local.rpcUrl. Safe beside a running gateway or a fleet on
        Postgres (every move is a compare-and-set), but no running gateway's revenue metric counts
        what it settles: use --admin

  --ledger PATH       the ledger's SQLite file
  --config FILE       or the gateway's config: its ledger.sqlite.path (beside the file by default)
                      or its ledger.postgres.url (the password is never printed)
  --admin URL         the running gateway's admin listener, e.g. http://127.0.0.1:9402
  --since             an ISO date or date-time (2025-01-31, 2025-01-31T12:00:00Z) or a duration
                      back from now (90m, 24h, 7d, 2w): records created at or after it
`;

export const LEDGER_USAGE = `usage: ${LEDGER_SYNOPSIS}\n${LEDGER_HELP}`;
