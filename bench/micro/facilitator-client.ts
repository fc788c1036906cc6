/**
 * CPU per facilitator call: our HttpFacilitatorClient (undici Pool.dispatch) against a bare
 * `http.request` on a keep-alive `http.Agent`, 32 calls in flight, against a stub that answers at
 * once. The stub runs in a child process on core 0, this process on core 1 (when taskset exists).
 *
 *   node --import tsx bench/micro/facilitator-client.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { HttpFacilitatorClient } from '../../src/verify/facilitator.js';
import type { FacilitatorRequest } from '../../src/verify/types.js';
import { exampleRequirementV2 } from '../../test/helpers/payments.js';

const CALLS = 60_000;
const IN_FLIGHT = 32;
const PORT = 18_555;
const REPLY = JSON.stringify({
  isValid: true,
  payer: '0x1111111111111111111111111111111111111111',
});
const STUB = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => {
  s.writeHead(200, { 'content-type': 'application/json', 'content-length': ${Buffer.byteLength(REPLY)} });
  s.end(${JSON.stringify(REPLY)}); }); }).listen(${PORT}, '127.0.0.1', () => console.log('ready'));`;

const pinned = spawnSync('taskset', ['-V']).status === 0;
if (pinned) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
const stub = spawn(
  pinned ? 'taskset' : process.execPath,
  pinned ? ['-c', '0', process.execPath, '-e', STUB] : ['-e', STUB],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
await new Promise<void>((resolve) => stub.stdout.once('data', () => resolve()));

const request: FacilitatorRequest = {
  x402Version: 2,
  paymentPayload: {
    x402Version: 2,
    accepted: exampleRequirementV2(),
    payload: { signature: `0x${'ab'.repeat(65)}` },
  },
  paymentRequirements: exampleRequirementV2(),
};

const ours = new HttpFacilitatorClient({
  url: `http://127.0.0.1:${PORT}`,
  verifyTimeoutMs: 5_000,
  settleTimeoutMs: 5_000,
  supportedTimeoutMs: 5_000,
  headers: {},
  maxSockets: 256,
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const bare = (): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify({ ...request });
    const req = http.request(
      {
        agent,
        host: '127.0.0.1',
        port: PORT,
        method: 'POST',
        path: '/verify',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });

async function measure(name: string, call: () => Promise<unknown>): Promise<void> {
  const run = async (n: number): Promise<void> => {
    let started = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (started++ < n) await call();
      }),
    );
  };
  await run(10_000); // warm-up
  const before = process.cpuUsage();
  await run(CALLS);
  const used = process.cpuUsage(before);
  console.log(
    `${name.padEnd(28)} ${((used.user + used.system) / CALLS).toFixed(1)} µs CPU per call`,
  );
}

for (let round = 0; round < 2; round++) {
  // A fresh request object per call, as in the gateway (its body is serialised once per object).
  await measure('HttpFacilitatorClient', () => ours.verify({ ...request }));
  await measure('http.request + keep-alive', bare);
}
await ours.close();
agent.destroy();
stub.kill();
