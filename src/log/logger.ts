/**
 * Structured JSON logs (pino): one line per request plus life-cycle events.
 * Payment headers are never logged; the redaction list is a second line of defence.
 */
import pino, { type Logger } from 'pino';
import type { LogConfig } from '../config/index.js';
import { BatchedStdout } from './destination.js';

export function createLogger(config: LogConfig, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.level,
      base: { svc: 'x402-gateway' },
      // Epoch milliseconds (pino's default): an ISO string per access-log line cost ~0.5 µs.
      redact: {
        paths: [
          'headers["payment-signature"]',
          'headers["x-payment"]',
          'req.headers["payment-signature"]',
          'req.headers["x-payment"]',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? new BatchedStdout(),
  );
}
