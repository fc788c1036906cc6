/**
 * The ledger's schema in Postgres, as forward migrations: the same tables, columns and checks as
 * SQLite's (schema.ts), in Postgres's types. Times are unix milliseconds in `bigint`; amounts stay
 * decimal text (as written, leading zeros kept) under a digits-only CHECK, and are summed as
 * `numeric` (exact, any size), never as a float.
 *
 * Several gateways open one database: the migration runs under a transaction-scoped advisory lock,
 * so one of them migrates and the others then find the schema current. A database written by a
 * newer gateway is refused (NewerSchemaError), as with SQLite.
 *
 * Version 2 adds `instances`, the heartbeat rows of the gateways sharing the book. Version 3 adds
 * `payments.owner`, the instance that counted a settled payment's revenue (docs/ledger.md §8).
 */
import type { Migration } from './schema.js';

export const POSTGRES_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    sql: `
CREATE TABLE payments (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key           text COLLATE "C" NOT NULL UNIQUE,  -- ordered bytewise, as in SQLite
  state         text NOT NULL CHECK (state IN
                  ('released','declined','settling','unknown','settled','confirmed','disputed','failed')),
  digest        text NOT NULL,
  x402_version  integer NOT NULL,
  route         text NOT NULL,
  method        text NOT NULL,
  path          text NOT NULL,
  network       text NOT NULL,
  asset         text NOT NULL,
  decimals      integer NOT NULL,
  pay_to        text NOT NULL,
  payer         text NOT NULL,
  amount        text NOT NULL CHECK (amount ~ '^[0-9]+$'),
  nonce         text NOT NULL,
  valid_before  bigint NOT NULL,
  request       text NOT NULL,
  tx            text,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  settled_at    bigint,
  confirmed_at  bigint,
  delivered_at  bigint,
  redemptions   integer NOT NULL DEFAULT 0,
  detail        text
);
CREATE INDEX payments_open ON payments (state, created_at)
  WHERE state IN ('settling', 'unknown', 'settled');
CREATE INDEX payments_created ON payments (created_at, key);

CREATE TABLE attempts (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  payment_id  bigint,  -- payments.id; null for an attempt whose key has no record
  key         text COLLATE "C" NOT NULL,
  request_id  text NOT NULL,
  outcome     text NOT NULL,
  status      integer NOT NULL,
  served      boolean NOT NULL,
  delivered   boolean NOT NULL,
  started_at  bigint NOT NULL,
  ended_at    bigint NOT NULL
);
CREATE INDEX attempts_payment ON attempts (payment_id);
CREATE INDEX attempts_orphan ON attempts (key) WHERE payment_id IS NULL;

CREATE TABLE resolutions (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key         text COLLATE "C" NOT NULL,
  at          bigint NOT NULL,
  from_state  text NOT NULL,
  to_state    text NOT NULL,
  by          text NOT NULL,
  note        text NOT NULL
);
CREATE INDEX resolutions_key ON resolutions (key);
`,
  },
  {
    // Heartbeat rows (postgres-instances.ts): which instances share this book now. Times are the
    // database's clock (now()), so the instances' clocks do not matter.
    version: 2,
    sql: `
CREATE TABLE instances (
  id            text PRIMARY KEY,
  host          text NOT NULL,
  pid           integer NOT NULL,
  worker        integer,  -- node:cluster worker index; null for a single process
  replay_store  text NOT NULL CHECK (replay_store IN ('memory', 'redis')),
  started_at    timestamptz NOT NULL DEFAULT now(),
  last_seen     timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    // The instance (server.instance) whose revenue counter counted the payment, written in the
    // statement that moves it to settled; each instance seeds its counter from what it owns.
    // Rows written before (and by an operator's command) have none: an instance adopts them at
    // its start (PostgresLedger.adopt). No index: the owned totals are read once per start.
    version: 3,
    sql: `
ALTER TABLE payments ADD COLUMN owner text;
`,
  },
]);

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.version;

/** The advisory lock the migration holds (any constant: gateways of one database agree on it). */
export const MIGRATION_LOCK = 0x78343032; // "x402"
