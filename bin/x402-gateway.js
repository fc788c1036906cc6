#!/usr/bin/env node
// Entry point of the `x402-gateway` command. The TypeScript is compiled to dist/ by `npm ci`
// (the `prepare` script), so there is no build step to remember.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('x402-gateway: dist/ is missing; run `npm run build` (npm ci does it for you)\n');
  process.exit(1);
}
const { main } = await import('../dist/cli.js');
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`x402-gateway: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
