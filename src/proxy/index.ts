/**
 * Proxy: forwarding to the upstream over an undici Pool; the only part that talks to it.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { BodyTooLargeError, type ForwardResult, type UpstreamResponse } from './exchange.js';
export { createForwarder, type Forwarder, type UpstreamRequest } from './forwarder.js';
export { responseHeaders } from './outgoing.js';
export { upstreamHeaders } from './request-headers.js';
