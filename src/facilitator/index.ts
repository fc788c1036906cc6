/**
 * The built-in facilitator: an in-process `FacilitatorClient` (built without I/O, connected by
 * `start()`) and an HTTP server that serves it to other gateways.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { buildLocalFacilitator, createLocalFacilitator } from './deferred.js';
export type { LocalFacilitator } from './local.js';
export { type SettlerBalanceWatch, watchSettlerBalance } from './balance.js';
export { type FacilitatorServer, startFacilitatorServer } from './server.js';
