/**
 * THE request path, in order. Read this list to know what happens to a request.
 * Paid-only stages are skipped on free and unpriced paths (the free fast path).
 */
import type { Stage } from './stage.js';
import { admit } from './stages/admit.js';
import { forward } from './stages/forward.js';
import { available, decode, extract, precheck, select } from './stages/payment-intake.js';
import { recall } from './stages/recall.js';
import { respond } from './stages/respond.js';
import { route } from './stages/route.js';
import { settle } from './stages/settle.js';
import { claim, verify } from './stages/verify.js';

export const STAGES: readonly Stage[] = Object.freeze([
  admit, //    in-flight cap, body size
  route, //    canonical path → price; preflight; unpriced forward/deny
  extract, //  PAYMENT-SIGNATURE, else X-PAYMENT; none → 402 challenge (503 upstream_down if down)
  decode, //   size cap, base64, JSON, schema → 400 invalid_payment_header
  recall, //   a retry the ledger holds: answered from its record (resume, redeem, refuse)
  available, // the route's upstream down → 503 upstream_down: nothing verified or claimed
  select, //   the offer this payload pays
  precheck, // payTo, exact amount, asset, network, time window (no I/O)
  claim, //    atomic replay claim on (chainId, asset, from, nonce)
  verify, //   verify cache, else facilitator /verify (fail closed)
  forward, //  upstream, wait for status + headers
  settle, //   upstream < 400 → facilitator /settle before any body byte
  respond, //  status, headers, settlement header, stream the body
]);
