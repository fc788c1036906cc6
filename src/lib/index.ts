/**
 * Small pure helpers with no home of their own. Imports nothing of ours.
 *
 * This file is the folder's face: other folders import from here, never from a file inside.
 */
export { isJsonObject, isOptionalString, type Writable } from './json.js';
export { listenError } from './listen-error.js';
