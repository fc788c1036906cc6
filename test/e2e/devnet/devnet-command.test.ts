import { describe, expect, it } from 'vitest';
import { runDevnetCommand, type DevnetDetails } from '../../../src/cli/commands/devnet.js';
import { isDevnetRpc } from '../../../src/devnet/devnet.js';

describe('devnet command', () => {
  it('starts anvil + the built-in facilitator, prints the details as JSON, and stops on abort', async () => {
    const abort = new AbortController();
    const out: string[] = [];
    const stdout = {
      write: (s: string) => (out.push(s), true),
    } as unknown as NodeJS.WritableStream;
    let details: DevnetDetails | undefined;
    const exit = runDevnetCommand(
      ['--chain', 'base', '--port', '0', '--facilitator-port', '0', '--json'],
      {
        stdout,
        signal: abort.signal,
        onReady: (d) => (details = d),
      },
    );
    await expect.poll(() => details, { timeout: 20_000 }).toBeDefined();
    const d = details!;
    expect(JSON.parse(out.join(''))).toEqual(d);
    expect(d).toMatchObject({
      chainId: 8453,
      network: { caip2: 'eip155:8453', v1Name: 'base' },
      usdc: {
        address: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913',
        name: 'USD Coin',
        version: '2',
        decimals: 6,
      },
      multicall3: '0xcA11bde05977b3631167028862bE2a173976CA11',
      settler: d.accounts[9]!.address,
    });
    expect(await isDevnetRpc(d.rpcUrl)).toBe(true);
    const supported = (await (await fetch(`${d.facilitatorUrl}/supported`)).json()) as {
      kinds: unknown[];
    };
    expect(supported.kinds).toContainEqual({ x402Version: 1, scheme: 'exact', network: 'base' });
    abort.abort();
    expect(await exit).toBe(0);
    expect(await isDevnetRpc(d.rpcUrl)).toBe(false);
  });

  it('refuses bad arguments with usage (exit 2)', async () => {
    const err: string[] = [];
    const stderr = {
      write: (s: string) => (err.push(s), true),
    } as unknown as NodeJS.WritableStream;
    expect(await runDevnetCommand(['--chain', 'polygon'], { stderr })).toBe(2);
    expect(err.join('')).toContain('--chain must be');
  });
});
