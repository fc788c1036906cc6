/**
 * Every reference a comment makes to a design note resolves inside the repository: a cited
 * `docs/<name>.md §N` has that section, a cited `ARCHITECTURE.md, "Title"` has that heading, and
 * nothing points at notes that live outside the repo.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const SKIP = [
  'node_modules',
  'test/e2e/v1-client',
  'test/fixtures',
  'bench/reference',
  'bench/results',
];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (SKIP.some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
    if (e.isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|mjs|cjs|js)$/.test(e.name)) out.push(rel);
  }
  return out;
}

// This file names the forms it checks (and forbids) itself.
const files = ['src', 'test', 'bench', 'scripts']
  .flatMap(sources)
  .filter((f) => f !== 'test/repo/citations.test.ts');
/** A file's text with comment line breaks joined, so a citation wrapped over two lines reads whole. */
const text = (file: string) =>
  fs.readFileSync(path.join(root, file), 'utf8').replace(/\n[ \t]*(?:\*(?!\/)|\/\/)[ \t]*/g, ' ');

/** `N` for `## N. Title`, `N.M` for `### N.M Title`. */
function sectionsOf(doc: string): Set<string> {
  const found = new Set<string>();
  for (const m of doc.matchAll(/^#{2,3} (\d+(?:\.\d+)?)[. ]/gm))
    found.add(m[1]!.replace(/\.$/, ''));
  return found;
}
const headingsOf = (doc: string) =>
  new Set([...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) => m[1]!.trim()));

const OUTSIDE = [
  /\.\.\/shared\//,
  /\bshared\/[\w-]+\.md/,
  /\bprotocol doc\b/i,
  /x402-protocol\.md/,
  /perf-notes\.md/,
  /\barchitecture(?:\.md)? §/i,
  /\bx402 §/,
  /\bspec §\d/,
];

describe('citations in comments', () => {
  it('name no design note outside the repository', () => {
    const bad: string[] = [];
    for (const file of files) {
      const t = text(file);
      for (const re of OUTSIDE) {
        const m = re.exec(t);
        if (m) bad.push(`${file}: "${m[0]}"`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('cite docs/ files and sections that exist', () => {
    const bad: string[] = [];
    let cited = 0;
    for (const file of files) {
      for (const m of text(file).matchAll(
        /docs\/([\w-]+)\.md((?:[ ,]*(?:and )?§\d+(?:\.\d+)?(?:[–-]§\d+)?)*)/g,
      )) {
        const doc = `docs/${m[1]}.md`;
        if (!fs.existsSync(path.join(root, doc))) {
          bad.push(`${file}: ${doc} does not exist`);
          continue;
        }
        const have = sectionsOf(fs.readFileSync(path.join(root, doc), 'utf8'));
        for (const s of m[2]!.matchAll(/§(\d+(?:\.\d+)?)/g)) {
          cited++;
          if (!have.has(s[1]!)) bad.push(`${file}: ${doc} has no §${s[1]}`);
        }
      }
    }
    expect(bad).toEqual([]);
    expect(cited).toBeGreaterThan(10);
  });

  it('cite ARCHITECTURE.md headings that exist', () => {
    const headings = headingsOf(fs.readFileSync(path.join(root, 'ARCHITECTURE.md'), 'utf8'));
    const bad: string[] = [];
    let cited = 0;
    for (const file of files) {
      for (const m of text(file).matchAll(/ARCHITECTURE\.md, "([^"]+)"/g)) {
        cited++;
        if (!headings.has(m[1]!)) bad.push(`${file}: ARCHITECTURE.md has no heading "${m[1]}"`);
      }
    }
    expect(bad).toEqual([]);
    expect(cited).toBeGreaterThan(2);
  });
});
