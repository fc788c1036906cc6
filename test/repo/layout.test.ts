/**
 * The README's layout and stage table, ARCHITECTURE.md's parts and stage list, parts.json and the
 * tree say the same thing. When one changes, this fails until the others follow.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGES } from '../../src/pipeline/stages.js';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

interface Part {
  readonly is: readonly string[];
}
const parts = (JSON.parse(read('parts.json')) as { parts: Record<string, Part> }).parts;

/** `src/x/` for each folder of src/, `src/x.ts` for each file at its root. */
const srcEntries = fs
  .readdirSync(path.join(root, 'src'), { withFileTypes: true })
  .map((e) => (e.isDirectory() ? `src/${e.name}/` : `src/${e.name}`))
  .sort();

/** The body of a `## title` section, up to the next `## `. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  if (start === -1) throw new Error(`no "## ${title}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** The cells of each body row of the first table in `text` (header and separator skipped). */
function tableRows(text: string): string[][] {
  const rows = text.split('\n').filter((l) => l.startsWith('|'));
  return rows.slice(2).map((l) =>
    l
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim()),
  );
}

const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe('parts.json and the tree', () => {
  it('every entry of src/ belongs to exactly one part, and every part path exists', () => {
    const owners = new Map<string, string[]>();
    for (const [name, part] of Object.entries(parts)) {
      for (const p of part.is) {
        expect(fs.existsSync(path.join(root, p)), `${name}: ${p} does not exist`).toBe(true);
        owners.set(p, [...(owners.get(p) ?? []), name]);
      }
    }
    for (const entry of srcEntries)
      expect(owners.get(entry), `${entry} is in no part`).toHaveLength(1);
  });

  it('every folder of src/ has an index.ts face', () => {
    for (const entry of srcEntries.filter((e) => e.endsWith('/'))) {
      expect(fs.existsSync(path.join(root, entry, 'index.ts')), `${entry}index.ts`).toBe(true);
    }
  });
});

describe('README.md', () => {
  const readme = read('README.md');

  it('lists exactly the entries of src/ in its layout', () => {
    const listed = tableRows(section(readme, 'Layout')).flatMap((r) => codeSpans(r[0]!));
    expect([...listed].sort()).toEqual(srcEntries);
  });

  it('has one stage table row per stage, in the order of STAGES', () => {
    const rows = tableRows(section(readme, 'What a request goes through'));
    expect(rows.map((r) => r[0])).toEqual(STAGES.map((s) => s.name));
  });
});

describe('ARCHITECTURE.md', () => {
  const doc = read('ARCHITECTURE.md');

  it('lists exactly the parts of parts.json, with their paths', () => {
    const rows = tableRows(section(doc, 'Parts'));
    expect(rows.map((r) => [r[0], codeSpans(r[1]!)])).toEqual(
      Object.entries(parts).map(([name, part]) => [name, [...part.is]]),
    );
  });

  it('lists the stages in the order of STAGES, marking the paid-only ones', () => {
    const rows = tableRows(section(doc, 'The request path'));
    expect(rows.map((r) => [r[0], r[1] === '✓'])).toEqual(STAGES.map((s) => [s.name, s.paidOnly]));
  });
});
