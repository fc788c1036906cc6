import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestUpstream, type TestUpstream } from '../helpers/upstream.js';
import { startTestFacilitator, type TestFacilitator } from '../helpers/facilitator-server.js';
import { acceptsOf } from '../helpers/x402-fixtures.js';

/** Run the real CLI entry (TypeScript through tsx) and collect its output. */
function runCli(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ...nodeArgs, 'src/cli/main.ts', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'x402-cli-'));
let upstream: TestUpstream;
let facilitator: TestFacilitator;
beforeAll(async () => {
  upstream = await startTestUpstream();
  facilitator = await startTestFacilitator();
});
afterAll(async () => {
  await upstream.close();
  await facilitator.close();
});

/**
 * `start` on a config written to `name` (the test upstream and facilitator, plus `extra` lines; a
 * priced /v1/quote unless `extra` brings its own routes), once it says where it listens.
 */
async function startGateway(
  name: string,
  extra: string[],
  nodeArgs: string[] = [],
  args: string[] = [],
) {
  const file = join(dir, name);
  const routes = extra.includes('routes:') ? [] : ['routes:', '  "GET /v1/quote": "$0.001"'];
  writeFileSync(
    file,
    [
      'server: { listen: 127.0.0.1:0, admin: 127.0.0.1:0 }',
      `facilitator: { url: ${facilitator.url} }`,
      'payment: { payTo: "0x1111111111111111111111111111111111111111" }',
      `upstream: ${upstream.url}`,
      ...extra,
      ...routes,
      '',
    ].join('\n'),
  );
  const run = runCli(['--config', file, ...args], {}, nodeArgs);
  const deadline = Date.now() + 15_000;
  while (!/listening on (http:\/\/\S+)/.test(run.out()) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /listening on (http:\/\/\S+)/.exec(run.out())?.[1];
  expect(url, run.err()).toBeDefined();
  return { run, url: url ?? '' };
}

describe('x402-gateway CLI', () => {
  it('--help documents every subcommand', async () => {
    const run = runCli(['--help']);
    expect(await run.exited).toBe(0);
    for (const word of ['validate', 'facilitator', '--config']) expect(run.out()).toContain(word);
  });

  it('validate prints every problem with its line and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      [
        'upstream: http://127.0.0.1:1',
        'payment: { payTo: "${UNSET_PAY_TO}" }',
        'routes:',
        '  "GET /a": "$0.0000001"',
        '  "FETCH /b": 1',
        'bogus: 1',
        '',
      ].join('\n'),
    );
    const run = runCli(['validate', '--config', file]);
    expect(await run.exited).toBe(1);
    const err = run.err();
    expect(err).toContain('bad.yaml:4');
    expect(err).toContain('bogus');
    expect(err).toContain('FETCH');
  });

  it('validate exits 0 on a good file', async () => {
    const file = join(dir, 'good.yaml');
    writeFileSync(
      file,
      `upstream: http://127.0.0.1:1\npayment: { payTo: "0x1111111111111111111111111111111111111111" }\nroutes:\n  "GET /a": "$0.01"\n`,
    );
    const run = runCli(['validate', '--config', file]);
    expect(await run.exited).toBe(0);
  });

  it('validate refuses --ledger (it checks no ledger): a usage error, exit 2', async () => {
    const file = join(dir, 'good-ledger.yaml');
    writeFileSync(
      file,
      `upstream: http://127.0.0.1:1\npayment: { payTo: "0x1111111111111111111111111111111111111111" }\nroutes:\n  "GET /a": "$0.01"\n`,
    );
    const run = runCli(['validate', '--config', file, '--ledger', join(dir, 'x.sqlite')]);
    expect(await run.exited).toBe(2);
    expect(run.err()).toContain('--ledger');
  });

  it('starts, serves, and on SIGTERM drains and exits 0', async () => {
    const { run, url } = await startGateway('run.yaml', ['log: { level: warn }']);
    const res = await fetch(`${url}/v1/quote`);
    expect(res.status).toBe(402);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('on a fault that escaped every handler, logs it, finishes the requests in flight, and exits 1', async () => {
    const preload = new URL('../helpers/fault-on-usr2.mjs', import.meta.url).pathname;
    const { run, url } = await startGateway(
      'fault.yaml',
      [
        'upstreamTimeoutMs: 1000',
        'routes:',
        '  "GET /v1/quote": "$0.001"',
        '  "GET /v1/slow-free": 0',
      ],
      ['--import', preload],
    );
    // In flight when the fault happens: the upstream never answers, the gateway's deadline does (504).
    const inFlight = fetch(`${url}/v1/slow-free`);
    await new Promise((r) => setTimeout(r, 200));
    run.child.kill('SIGUSR2');
    expect((await inFlight).status).toBe(504);
    expect(await run.exited).toBe(1);
    const out = run.out() + run.err();
    expect(out).toContain('a fault escaped every handler');
    expect(out).toContain('injected fault');
  });

  it('start --ledger PATH keeps the book there, not beside the config', async () => {
    // A folder of its own: other tests here start gateways whose books sit beside their configs.
    mkdirSync(join(dir, 'flag', 'data'), { recursive: true });
    const ledger = join(dir, 'flag', 'data', 'book.sqlite');
    const { run } = await startGateway('flag/gateway.yaml', [], [], ['--ledger', ledger]);
    expect(existsSync(ledger)).toBe(true);
    expect(existsSync(join(dir, 'flag', 'x402-ledger.sqlite'))).toBe(false);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('start --ledger with ledger: false in the config is a usage error (exit 2)', async () => {
    const file = join(dir, 'no-ledger.yaml');
    writeFileSync(file, 'upstream: http://127.0.0.1:1\nledger: false\nroutes:\n  "GET /a": 0\n');
    const run = runCli(['start', '--config', file, '--ledger', join(dir, 'x.sqlite')]);
    expect(await run.exited).toBe(2);
    expect(run.err()).toMatch(/contradicts ledger: false/);
  });

  it('reloads its config on SIGHUP: a new price applies, an invalid file keeps the old one, a restart-only key is refused by name', async () => {
    const file = join(dir, 'hup.yaml');
    const { run, url } = await startGateway('hup.yaml', ['log: { level: warn }']);
    const admin = /admin (http:\/\/[^)\s]+)/.exec(run.out())?.[1] ?? '';
    const price = async (): Promise<unknown> =>
      acceptsOf(await (await fetch(`${url}/v1/quote`)).text())[0]?.maxAmountRequired;
    const reloads = async (result: string): Promise<number> => {
      const text = await (await fetch(`${admin}/metrics`)).text();
      const line = new RegExp(
        `^x402_gateway_config_reload_total\\{result="${result}"\\} (\\d+)`,
        'm',
      );
      return Number(line.exec(text)?.[1] ?? NaN);
    };
    expect(await price()).toBe('1000');
    expect(await reloads('success')).toBe(0);

    writeFileSync(file, readFileSync(file, 'utf8').replace('"$0.001"', '"$0.002"'));
    run.child.kill('SIGHUP');
    await expect.poll(() => reloads('success'), { timeout: 10_000 }).toBe(1);
    expect(await price()).toBe('2000');

    // Invalid: every problem logged, counted, and the running config stays.
    const valid = readFileSync(file, 'utf8');
    writeFileSync(file, valid.replace('"$0.002"', '"two dollars"'));
    run.child.kill('SIGHUP');
    await expect.poll(() => reloads('failure'), { timeout: 10_000 }).toBe(1);
    expect(await price()).toBe('2000');
    await expect.poll(() => run.out(), { timeout: 5_000 }).toContain('config reload failed');

    // A restart-only key (the upstream) changes with a price: the price applies, the key is named.
    writeFileSync(
      file,
      valid
        .replace('"$0.002"', '"$0.003"')
        .replace(`upstream: ${upstream.url}`, 'upstream: http://127.0.0.1:9'),
    );
    run.child.kill('SIGHUP');
    await expect.poll(() => reloads('success'), { timeout: 10_000 }).toBe(2);
    expect(await price()).toBe('3000');
    await expect
      .poll(() => run.out(), { timeout: 5_000 })
      .toMatch(/restart-only keys changed.*upstream/);
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('--watch reloads the config when the file is replaced', async () => {
    const file = join(dir, 'watch.yaml');
    const { run, url } = await startGateway(
      'watch.yaml',
      ['log: { level: warn }'],
      [],
      ['--watch'],
    );
    const price = async (): Promise<unknown> =>
      acceptsOf(await (await fetch(`${url}/v1/quote`)).text())[0]?.maxAmountRequired;
    expect(await price()).toBe('1000');
    // As editors and ConfigMaps do: write a new file and rename it over the old one.
    writeFileSync(`${file}.tmp`, readFileSync(file, 'utf8').replace('"$0.001"', '"$0.005"'));
    renameSync(`${file}.tmp`, file);
    await expect.poll(price, { timeout: 10_000 }).toBe('5000');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('names the address it cannot listen on, and why', async () => {
    const busy = http.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    try {
      const file = join(dir, 'busy.yaml');
      writeFileSync(
        file,
        [
          `server: { listen: 127.0.0.1:0, admin: "127.0.0.1:${port}" }`,
          `facilitator: { url: ${facilitator.url} }`,
          'payment: { payTo: "0x1111111111111111111111111111111111111111" }',
          `upstream: ${upstream.url}`,
          'log: { level: silent }',
          'routes:',
          '  "GET /v1/quote": "$0.001"',
          '',
        ].join('\n'),
      );
      const run = runCli(['--config', file]);
      expect(await run.exited).toBe(1);
      expect(run.err()).toContain(
        `cannot start: cannot listen on 127.0.0.1:${port} (server.admin, the admin listener): address already in use`,
      );
    } finally {
      busy.close();
    }
  });

  it('refuses to start on an unknown flag with exit code 2', async () => {
    const run = runCli(['--config', 'x.yaml', '--nope']);
    expect(await run.exited).toBe(2);
  });
});
