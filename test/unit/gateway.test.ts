/**
 * The composition root: building does no I/O (nothing connects, nothing is asked), start() brings
 * the parts up in order, a part that cannot start fails the start with GatewayStartError after
 * stopping what had started (no later part starts), and stop() ends the periodic work in reverse.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { buildGateway, GatewayStartError, lifecycle } from '../../src/gateway.js';
import { tempDir } from '../helpers/temp-dir.js';

const ledgerDir = tempDir();
afterAll(() => ledgerDir.remove());

const PAY_TO = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const quiet = pino({ level: 'silent' });

function config(facilitator: string): GatewayConfig {
  const loaded = loadConfigText(
    `${facilitator}\npayment:\n  network: base-sepolia\n  payTo: "${PAY_TO}"\nupstream: http://127.0.0.1:9\nroutes:\n  "GET /v1/quote": "$0.001"\n`,
    {},
    'test.yaml',
    // The ledger's default file beside the config: a folder of this test's, never the repo's.
    { baseDir: ledgerDir.path },
  );
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.config;
}

/** A loopback server that counts connections and requests, answering /supported. */
async function countingServer() {
  const seen = { connections: 0, requests: [] as string[] };
  const server = http.createServer((req, res) => {
    seen.requests.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({ kinds: [{ x402Version: 2, scheme: 'exact', network: 'eip155:84532' }] }),
    );
  });
  server.on('connection', () => seen.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { seen, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

describe('buildGateway', () => {
  it('does no I/O while building; start() asks the facilitator, stop() ends the watcher', async () => {
    const facilitator = await countingServer();
    closers.push(facilitator.close);
    const gateway = buildGateway(config(`facilitator:\n  url: ${facilitator.url}`), { log: quiet });
    await new Promise((r) => setTimeout(r, 100));
    expect(facilitator.seen.connections).toBe(0);
    expect(gateway.readiness.ready).toBe(false);

    await gateway.start();
    await expect.poll(() => gateway.readiness.paid().ok, { timeout: 5_000 }).toBe(true);
    expect(gateway.readiness.ready).toBe(true);
    expect(facilitator.seen.requests).toEqual(['GET /supported']);
    await gateway.stop();
    await gateway.stop(); // idempotent
  });

  it('builds the built-in facilitator without touching its RPC; start() connects to it', async () => {
    const rpc = await countingServer();
    closers.push(rpc.close);
    const local = `facilitator:\n  local:\n    rpcUrl: ${rpc.url}\n    privateKey: "0x${'11'.repeat(32)}"`;
    const gateway = buildGateway(config(local), { log: quiet });
    await new Promise((r) => setTimeout(r, 100));
    expect(rpc.seen.connections).toBe(0);
    // Not started: the facilitator answers "unavailable", so a paid request fails closed.
    const answer = await gateway.deps.facilitator.supported();
    expect(answer.kind).toBe('unavailable');

    // The counting server answers eth_chainId with garbage: start() fails, naming the key.
    const started = gateway.start();
    await expect(started).rejects.toBeInstanceOf(GatewayStartError);
    await expect(started).rejects.toThrow(
      /^facilitator\.local: cannot start the built-in facilitator/,
    );
    expect(rpc.seen.connections).toBeGreaterThan(0);
    expect(rpc.seen.requests.every((r) => r === 'POST /')).toBe(true);
  });
});

describe('lifecycle', () => {
  const service = (name: string, calls: string[], fail = false) => ({
    name,
    start: () => {
      calls.push(`start ${name}`);
      if (fail) throw new Error(`${name} is broken`);
    },
    stop: () => {
      calls.push(`stop ${name}`);
    },
  });

  it('starts in order and stops in reverse, once', async () => {
    const calls: string[] = [];
    const life = lifecycle([service('a', calls), service('b', calls), service('c', calls)], quiet);
    await life.start();
    await Promise.all([life.stop(), life.stop()]);
    expect(calls).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('starts no later part when one fails, stops the rest, and names the part', async () => {
    const calls: string[] = [];
    const life = lifecycle(
      [service('a', calls), service('b', calls, true), service('c', calls)],
      quiet,
    );
    await expect(life.start()).rejects.toThrow(new GatewayStartError('b: b is broken'));
    expect(calls).toEqual(['start a', 'start b', 'stop c', 'stop b', 'stop a']);
  });
});
