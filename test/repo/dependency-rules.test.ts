/**
 * The dependency rules that `npm run lint` runs (.dependency-cruiser.cjs, generated from parts.json
 * by scripts/dependency-rules.cjs): the real tree keeps them, and each kind of rule fires on a
 * violation planted in a scratch tree, naming itself. A rule that never fires would hold nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { cruise, type ICruiseOptions, type IForbiddenRuleType } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '../..');
const parts = require(path.join(root, 'parts.json')) as unknown;
const { rulesFromParts } = require(path.join(root, 'scripts/dependency-rules.cjs')) as {
  rulesFromParts: (map: unknown) => IForbiddenRuleType[];
};

async function violations(baseDir: string): Promise<string[]> {
  const options: ICruiseOptions = {
    baseDir,
    validate: true,
    ruleSet: { forbidden: rulesFromParts(parts) },
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    exclude: { path: 'node_modules' },
  };
  const result = await cruise(['src'], options, { extensions: ['.ts', '.js'] });
  if (typeof result.output === 'string') throw new Error('expected a cruise result object');
  return result.output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
}

describe('the dependency rules', () => {
  it('hold on the tree as it is', async () => {
    expect(await violations(root)).toEqual([]);
  }, 60_000);

  // One scratch tree: every folder a part names, each with an index.ts face and an inner file.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'x402-deps-'));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(scratch, rel)), { recursive: true });
    fs.writeFileSync(path.join(scratch, rel), text);
  };
  const folders = [
    'cli',
    'config',
    'pipeline',
    'settle',
    'pricing',
    'x402',
    'chains',
    'verify',
    'proxy',
    'metrics',
    'log',
    'facilitator',
    'devnet',
    'dev',
    'lib',
  ];
  for (const f of folders) {
    write(`src/${f}/inner.ts`, `export const ${f}Inner = 1;\n`);
    write(`src/${f}/index.ts`, `export { ${f}Inner } from './inner.js';\n`);
  }
  write('src/gateway.ts', 'export const gateway = 1;\n');
  write(
    'src/server.ts',
    "import { gateway } from './gateway.js';\nexport const server = gateway;\n",
  );

  const cases: Array<[string, string, string, RegExp]> = [
    [
      'an arrow back up the layers',
      'src/x402/bad.ts',
      "import type { pricingInner } from '../pricing/index.js';\nexport type T = typeof pricingInner;\n",
      /^layer-wire-not-pricing: src\/x402\/bad\.ts -> src\/pricing\/index\.ts$/,
    ],
    [
      'pricing reading config',
      'src/pricing/bad.ts',
      "import { configInner } from '../config/index.js';\nexport const t = configInner;\n",
      /^layer-pricing-not-config:/,
    ],
    [
      'an arrow on the never list',
      'src/verify/bad.ts',
      "import { proxyInner } from '../proxy/index.js';\nexport const t = proxyInner;\n",
      /^never-verify-to-proxy:/,
    ],
    [
      'a leaf importing a part',
      'src/chains/bad.ts',
      "import { libInner } from '../lib/index.js';\nexport const t = libInner;\n",
      /^leaf-chains:/,
    ],
    [
      'production code importing the devnet',
      'src/facilitator/bad.ts',
      "import { devnetInner } from '../devnet/index.js';\nexport const t = devnetInner;\n",
      /^dev-only-devnet:/,
    ],
    [
      'a lower part importing the wiring',
      'src/pipeline/bad.ts',
      "import { gateway } from '../gateway.js';\nexport const t = gateway;\n",
      /^top-wiring:/,
    ],
    [
      'a deep import past a face',
      'src/pipeline/deep.ts',
      "import { x402Inner } from '../x402/inner.js';\nexport const t = x402Inner;\n",
      /^no-deep-import: src\/pipeline\/deep\.ts -> src\/x402\/inner\.ts$/,
    ],
    [
      'a folder in no part that imports',
      'src/orphan/a.ts',
      "import { libInner } from '../lib/index.js';\nexport const t = libInner;\n",
      /^folder-in-no-part: src\/orphan\/a\.ts -> /,
    ],
    [
      'a folder in no part that nothing touches',
      'src/lonely/a.ts',
      'export const t = 1;\n',
      /^folder-in-no-part: src\/lonely\/a\.ts/,
    ],
    [
      'a cycle',
      'src/metrics/cycle-a.ts',
      "import { b } from './cycle-b.js';\nexport const a = () => b;\n",
      /^no-circular:/,
    ],
  ];
  write('src/metrics/cycle-b.ts', "import { a } from './cycle-a.js';\nexport const b = () => a;\n");

  it.each(cases)(
    'fire on %s',
    async (_what, file, text, expected) => {
      write(file, text);
      try {
        const found = await violations(scratch);
        expect(
          found.some((v) => expected.test(v)),
          found.join('\n'),
        ).toBe(true);
      } finally {
        fs.rmSync(path.join(scratch, file));
      }
    },
    60_000,
  );
});
