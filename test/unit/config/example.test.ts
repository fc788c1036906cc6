import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, formatProblems, loadConfigFile } from '../../../src/config/index.js';

const example = fileURLToPath(new URL('../../../gateway.example.yaml', import.meta.url));

describe('gateway.example.yaml', () => {
  it('loads with PAY_TO set', async () => {
    const result = await loadConfigFile(example, {
      PAY_TO: '0x209693bc6afc0c5328ba36faf03c514ef312287c',
    });
    expect(result.ok ? 'ok' : formatProblems(result.problems, 'gateway.example.yaml')).toBe('ok');
    if (!result.ok) return;
    expect(result.config.routes.map((r) => r.id)).toEqual([
      'GET /v1/quote',
      'POST /v1/vision',
      'GET /v1/items/:id',
      '/v1/search/*',
      'GET /v1/health',
    ]);
  });

  it('fails without PAY_TO, naming the variable', async () => {
    const result = await loadConfigFile(example, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.objectContaining({
        path: 'payment.payTo',
        message: 'environment variable PAY_TO is not set',
      }),
    ]);
  });

  it('documents every default with the value in DEFAULTS', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(example, 'utf8');
    const leaves: Array<[string, string]> = [];
    const walk = (obj: Readonly<Record<string, unknown>>, prefix: string): void => {
      for (const [k, v] of Object.entries(obj)) {
        if (v !== null && typeof v === 'object' && Object.keys(v).length > 0) {
          walk(v as Record<string, unknown>, `${prefix}${k}.`);
        } else {
          const shown =
            v === null ? 'null' : typeof v === 'object' ? '{}' : `${v as string | number}`;
          leaves.push([`${prefix}${k}`, shown]);
        }
      }
    };
    walk(DEFAULTS, '');
    for (const [key, shown] of leaves) {
      if (key.startsWith('route.')) continue; // documented inside the routes example
      const leaf = key.split('.').at(-1) ?? key;
      const documented = text
        .split('\n')
        .some((l) => l.trimStart().startsWith(`${leaf}:`) && l.includes(`# default ${shown}`));
      expect(documented, `example documents ${key} with "# default ${shown}"`).toBe(true);
    }
  });
});
