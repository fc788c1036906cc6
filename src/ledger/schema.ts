/**
 * The ledger's SQL schema as forward migrations. `schema_version` holds the version the file is
 * at; opening runs every later migration in one transaction, and refuses a file written by a newer
 * gateway (its version is above ours): an old binary must never write a schema it does not know.
 * docs/ledger.md describes every table and column.
 */

export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    sql: `
CREATE TABLE payments (
  id            INTEGER PRIMARY KEY,
  key           TEXT NOT NULL UNIQUE,
  state         TEXT NOT NULL CHECK (state IN
                  ('released','declined','settling','unknown','settled','confirmed','disputed','failed')),
  digest        TEXT NOT NULL,
  x402_version  INTEGER NOT NULL,
  route         TEXT NOT NULL,
  method        TEXT NOT NULL,
  path          TEXT NOT NULL,
  network       TEXT NOT NULL,
  asset         TEXT NOT NULL,
  decimals      INTEGER NOT NULL,
  pay_to        TEXT NOT NULL,
  payer         TEXT NOT NULL,
  amount        TEXT NOT NULL CHECK (amount GLOB '[0-9]*' AND amount NOT GLOB '*[^0-9]*'),
  nonce         TEXT NOT NULL,
  valid_before  INTEGER NOT NULL,
  request       TEXT NOT NULL,
  tx            TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  settled_at    INTEGER,
  confirmed_at  INTEGER,
  delivered_at  INTEGER,
  redemptions   INTEGER NOT NULL DEFAULT 0,
  detail        TEXT
);
CREATE INDEX payments_open ON payments (state, created_at)
  WHERE state IN ('settling', 'unknown', 'settled');
CREATE INDEX payments_created ON payments (created_at);

CREATE TABLE attempts (
  id          INTEGER PRIMARY KEY,
  payment_id  INTEGER,  -- payments.id; null for an attempt whose key has no record
  key         TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  outcome     TEXT NOT NULL,
  status      INTEGER NOT NULL,
  served      INTEGER NOT NULL,
  delivered   INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  ended_at    INTEGER NOT NULL
);
CREATE INDEX attempts_payment ON attempts (payment_id);

CREATE TABLE resolutions (
  id          INTEGER PRIMARY KEY,
  key         TEXT NOT NULL,
  at          INTEGER NOT NULL,
  from_state  TEXT NOT NULL,
  to_state    TEXT NOT NULL,
  by          TEXT NOT NULL,
  note        TEXT NOT NULL
);
CREATE INDEX resolutions_key ON resolutions (key);
`,
  },
]);

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The file was written by a newer gateway: refuse rather than write a schema we do not know. */
export class NewerSchemaError extends Error {
  readonly code = 'GW_ERR_LEDGER_SCHEMA';
  constructor(found: number, known: number) {
    super(
      `the ledger's schema is version ${found}, newer than this gateway's ${known}: run the newer gateway, or restore a backup`,
    );
    this.name = 'NewerSchemaError';
  }
}
