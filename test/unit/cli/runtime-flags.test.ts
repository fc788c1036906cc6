/**
 * The gateway's Node flags are set in four places that cannot import one another; this keeps them
 * equal to src/cli/runtime-flags.ts.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNTIME_NODE_FLAGS } from '../../../src/cli/runtime-flags.js';

const read = (file: string) =>
  fs.readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
const flags = RUNTIME_NODE_FLAGS.join(' ');

describe('runtime Node flags', () => {
  it('are in the bin shebang', () => {
    expect(read('bin/x402-gateway.js').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${flags}`);
  });

  it('are in npm start', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${flags} bin/x402-gateway.js dev`);
  });

  it("are in the Dockerfile's entrypoint", () => {
    const args = RUNTIME_NODE_FLAGS.map((f) => `"${f}", `).join('');
    expect(read('Dockerfile')).toContain(`ENTRYPOINT ["node", ${args}"bin/x402-gateway.js"]`);
  });

  it('are options node accepts', () => {
    for (const f of RUNTIME_NODE_FLAGS)
      expect(process.allowedNodeEnvironmentFlags.has(f.split('=')[0]!)).toBe(true);
  });
});
