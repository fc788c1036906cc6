#!/usr/bin/env -S node --max-semi-space-size=32
// Entry point of the `x402-gateway` command. The TypeScript is compiled to dist/ by `npm ci`
// (the `prepare` script), so there is no build step to remember.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write(
    'x402-gateway: dist/ is missing; run `npm run build` (npm ci does it for you)\n',
  );
  process.exit(1);
}
await import('../dist/cli/main.js');
