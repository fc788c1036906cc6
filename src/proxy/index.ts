/**
 * Proxy: forwarding to the upstream over an undici Pool; the only part that talks to it.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export {
  BodyStalledError,
  BodyTooLargeError,
  type ForwardResult,
  type UpstreamResponse,
} from './exchange.js';
export {
  createForwarder,
  type Forwarder,
  type ForwarderOptions,
  type UpstreamRequest,
} from './forwarder.js';
export { publicLocation, responseHeaders, type PublicOrigins } from './outgoing.js';
export { headerEdits, upstreamHeaders, type HeaderEdits } from './request-headers.js';
export { rewritePath, undoRewrite, type PathRewrite } from './path-rewrite.js';
export { keepReading } from './write-deadline.js';
export { UpstreamHealth, type UpstreamHealthOptions } from './upstream-health.js';
