/**
 * Logging: the pino logger, its batched stdout destination, and the per-request access log.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { type AccessLog, createAccessLog } from './access-log.js';
export { createLogger } from './logger.js';
