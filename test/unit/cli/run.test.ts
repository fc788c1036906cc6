import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/run.js';
import { captureOutput } from '../../helpers/capture-output.js';

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await captureOutput(() => main(argv));
  return { code, out: stdout, err: stderr };
}

describe('main', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(await cli(['--version'])).toEqual({
      code: 0,
      out: `x402-gateway ${version}\n`,
      err: '',
    });
  });

  it.each([
    ['pay', /^usage: x402-gateway pay URL/],
    ['validate', /^usage: x402-gateway validate --config FILE/],
    ['start', /^usage: x402-gateway \[start\] --config FILE/],
    ['dev', /^usage: x402-gateway dev /],
    ['devnet', /^usage: x402-gateway devnet /],
    ['facilitator', /^usage: x402-gateway facilitator /],
    ['ledger', /^usage: x402-gateway ledger /],
  ])('%s --help prints that command’s usage, not the whole help', async (command, usage) => {
    const r = await cli([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(usage);
    expect(r.out).not.toContain('Usage:\n'); // the top-level help's heading
  });

  it('--help alone prints the whole help, with the unit of pay --max', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage:\n');
    expect(r.out).toContain('--max: whole tokens');
    expect(r.out).toContain('--version');
  });
});
