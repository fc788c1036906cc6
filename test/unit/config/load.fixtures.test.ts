import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatProblems, loadConfigFile } from '../../../src/config/index.js';

const dir = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const env = { PAY_TO: '0x209693bc6afc0c5328ba36faf03c514ef312287c', PORT: '8500' };

const yamlIn = (sub: string): string[] =>
  readdirSync(join(dir, sub))
    .filter((f) => f.endsWith('.yaml'))
    .sort();

describe('valid config fixtures load', () => {
  it.each(yamlIn('valid'))('%s', async (file) => {
    const path = join(dir, 'valid', file);
    const result = await loadConfigFile(path, env);
    expect(result.ok ? 'ok' : formatProblems(result.problems, file)).toBe('ok');
  });
});

describe('invalid config fixtures fail with the problem they name', () => {
  it.each(yamlIn('invalid'))('%s', async (file) => {
    const path = join(dir, 'invalid', file);
    const firstLine = readFileSync(path, 'utf8').split('\n')[0] ?? '';
    const expected = /^# expect: (.+)$/.exec(firstLine)?.[1];
    expect(expected, `${file} must start with "# expect: <message>"`).toBeDefined();
    const result = await loadConfigFile(path, env);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(formatProblems(result.problems, file)).toContain(expected);
  });
});
