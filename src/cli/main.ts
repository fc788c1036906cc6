/**
 * Process entry of the `x402-gateway` command: run the CLI and exit with its code. Kept apart from
 * run.ts so tests can call `main()` without exiting the test process.
 */
import { main } from './run.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `x402-gateway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
