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
            v === null
              ? 'null'
              : Array.isArray(v)
                ? '[]'
                : typeof v === 'object'
                  ? '{}'
                  : `${v as string | number}`;
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
        .map((l) => l.trimStart().replace(/^#\s*/, '')) // a commented-out alternative counts
        .some((l) => l.startsWith(`${leaf}:`) && l.includes(`# default ${shown}`));
      expect(documented, `example documents ${key} with "# default ${shown}"`).toBe(true);
    }
  });

  it('its commented facilitator.local block loads when swapped in for url', async () => {
    const { readFile } = await import('node:fs/promises');
    const lines = (await readFile(example, 'utf8')).split('\n');
    const start = lines.findIndex((l) => l.trim() === '# local:');
    expect(start).toBeGreaterThan(0);
    const block: string[] = [];
    for (const line of lines.slice(start)) {
      if (!line.startsWith('  #')) break;
      block.push(line.replace(/^ {2}# ?/, '  ').replace(/^ {2}( *)# .*$/, ''));
    }
    const httpOnly =
      /^ {2}(url|supportedTimeoutMs|maxSockets|headers|breakerFailures|breakerHalfOpenAfterMs):/;
    const swapped = lines
      .filter((l) => !httpOnly.test(l))
      .flatMap((l, i, all) => (i > 0 && all[i - 1] === 'facilitator:' ? [...block, l] : [l]))
      .join('\n');
    const { loadConfigText } = await import('../../../src/config/index.js');
    const result = loadConfigText(
      swapped,
      { PAY_TO: '0x209693bc6afc0c5328ba36faf03c514ef312287c', SETTLER_KEY: `0x${'ab'.repeat(32)}` },
      'swapped.yaml',
    );
    expect(result.ok ? 'ok' : formatProblems(result.problems, 'swapped.yaml')).toBe('ok');
    if (!result.ok) return;
    expect(result.config.facilitator).toEqual({
      kind: 'local',
      rpcUrl: 'http://127.0.0.1:8545',
      privateKey: `0x${'ab'.repeat(32)}`,
      verifyTimeoutMs: DEFAULTS.facilitator.verifyTimeoutMs,
      settleTimeoutMs: DEFAULTS.facilitator.settleTimeoutMs,
      supportedRefreshMs: DEFAULTS.facilitator.supportedRefreshMs,
      receiptTimeoutMs: DEFAULTS.facilitator.local.receiptTimeoutMs,
      pollingIntervalMs: DEFAULTS.facilitator.local.pollingIntervalMs,
    });
  });
});
