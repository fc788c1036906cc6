import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAnvil } from '../../../src/devnet/anvil.js';
import { startDemoUpstream } from '../../../src/dev/index.js';
import { startFacilitatorServer } from '../../../src/facilitator/server.js';
import { listenError } from '../../../src/lib/index.js';
import type { FacilitatorClient } from '../../../src/verify/index.js';

// Something else holds this port (another anvil, a node, a second gateway).
let busy: http.Server;
let port: number;
beforeAll(async () => {
  busy = http.createServer((_req, res) => res.end('{"jsonrpc":"2.0","id":1,"result":"0x1"}'));
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  port = (busy.address() as AddressInfo).port;
});
afterAll(() => busy.close());

describe('listenError', () => {
  it('names the address, what it is for and why', () => {
    const err = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(listenError(err, '127.0.0.1', 8545, 'the devnet').message).toBe(
      'cannot listen on 127.0.0.1:8545 (the devnet): address already in use: another process holds it; stop it or pick another port',
    );
    expect(listenError(new Error('odd'), '::1', 80, 'x').message).toBe(
      'cannot listen on [::1]:80 (x): odd',
    );
  });

  it('the devnet refuses a busy port by name instead of using what answers there', async () => {
    await expect(spawnAnvil({ chainId: 84532, port, readyTimeoutMs: 2_000 })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port} (the devnet (anvil), --port / --anvil-port): address already in use`,
    );
  });

  it('the facilitator server and the demo upstream name the busy address', async () => {
    await expect(
      startFacilitatorServer({ facilitator: {} as FacilitatorClient, port }),
    ).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port} (the facilitator, --port/--host): address already in use`,
    );
    await expect(startDemoUpstream(port)).rejects.toThrow(
      `cannot listen on 127.0.0.1:${port} (the demo upstream, dev --upstream-port): address already in use`,
    );
  });
});
