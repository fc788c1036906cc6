/**
 * Cli: the `x402-gateway` command line. main.ts is the process entry (bin/ loads its build);
 * `main(argv)` runs a command and resolves with its exit code, so tests can call it.
 *
 * This file is the folder's face: other code imports from here, never from a file inside.
 */
export { main } from './run.js';
