/**
 * Dev: the demo API that `npm start` puts behind the gateway. Never production.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { startDemoUpstream } from './demo-upstream.js';
