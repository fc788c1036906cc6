/**
 * The tests' own map: test/unit mirrors src file for file, and helpers have one home.
 * `src/x/y.ts` is tested by `test/unit/x/y.test.ts` or `test/unit/x/y.<aspect>.test.ts`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.name === 'node_modules' || rel === 'test/e2e/v1-client' || rel === 'test/fixtures')
      continue;
    if (e.isDirectory()) out.push(...walk(rel));
    else out.push(rel);
  }
  return out;
}

describe('test layout', () => {
  it('every unit test names a src file at the same relative path', () => {
    const strays: string[] = [];
    for (const file of walk('test/unit')) {
      const m = /^test\/unit\/(.+\/)?([^/.]+)(?:\.[\w-]+)?\.test\.ts$/.exec(file);
      const source = m ? `src/${m[1] ?? ''}${m[2]}.ts` : undefined;
      if (source === undefined || !fs.existsSync(path.join(root, source))) strays.push(file);
    }
    expect(strays).toEqual([]);
  });

  it('helpers live in test/helpers only: every other file under test/ is a test', () => {
    // walk() leaves out test/e2e/v1-client: the official v1 client, a package of its own.
    const strays = ['test/unit', 'test/integration', 'test/e2e', 'test/repo']
      .flatMap(walk)
      .filter((f) => !f.endsWith('.test.ts'));
    expect(strays).toEqual([]);
  });
});
