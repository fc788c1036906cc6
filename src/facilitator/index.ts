/** The built-in facilitator: in-process client, HTTP server, CLI command. */
export { createLocalFacilitator, type LocalFacilitator, type LocalFacilitatorOptions } from './local.js';
export { startFacilitatorServer, type FacilitatorServer, type FacilitatorServerOptions } from './server.js';
export { runFacilitatorCommand, FACILITATOR_USAGE, type FacilitatorCommandIo } from './cli.js';
export { createKeepAliveTransport, type KeepAliveTransport, type KeepAliveTransportOptions } from './rpc-transport.js';
