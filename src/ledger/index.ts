/**
 * Ledger: the book of record. Durable payment records behind a store interface (SQLite on one
 * host, written by its own thread), their attempts and resolutions. It knows no payment rules:
 * the payment lifecycle (src/payment/) decides, and writes here.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export {
  type Attempt,
  type LedgerRecord,
  type LedgerState,
  LEDGER_STATES,
  PAID_STATES,
  type PaymentFacts,
  type RecordFilter,
  type Resolution,
  type RevenueFilter,
  type RevenueTotal,
  type StateChange,
  UNRESOLVED_STATES,
} from './record.js';
export { LedgerHealth, type LedgerReadiness } from './health.js';
export { MIGRATIONS, NewerSchemaError, SCHEMA_VERSION } from './schema.js';
export { SqliteBook, type WriteOp, type WriteResult } from './sqlite-book.js';
export { SqliteLedger, type SqliteLedgerOptions } from './sqlite-ledger.js';
export {
  PostgresLedger,
  type PostgresLedgerOptions,
  redact as redactPostgresUrl,
} from './postgres-ledger.js';
export { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from './postgres-schema.js';
export {
  fleetVerdict,
  HEARTBEAT_EVERY_MS,
  type HeartbeatOptions,
  type InstanceFacts,
  LIVE_WITHIN_BEATS,
  type LiveInstance,
  type ReplayStoreKind,
} from './postgres-instances.js';
export {
  type LedgerErrorKind,
  type LedgerHooks,
  type LedgerStore,
  LedgerUnavailableError,
  moved,
  reportMove,
  type UnresolvedSummary,
} from './store.js';
