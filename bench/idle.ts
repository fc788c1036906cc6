/**
 * RSS with many open idle keep-alive connections: each connection sends one request, reads the
 * answer and then stays open and silent while the SUT's RSS is read.
 */
import net from 'node:net';
import type { Contender, Harness } from './contenders/types.js';
import { treeRssBytes } from './cpu.js';
import { runLoad } from './load.js';

export interface IdleResult {
  readonly contender: string;
  readonly path: string;
  readonly connections: number;
  /** Connections still open when RSS was read (servers close idle ones after their keep-alive timeout). */
  readonly stillOpen: number;
  readonly rssBeforeBytes: number | null;
  readonly rssIdleBytes: number | null;
  readonly bytesPerConnection: number | null;
  readonly error: string | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Open one connection, send a GET, resolve once the response headers+body arrived. */
function openOne(
  port: number,
  path: string,
  sockets: net.Socket[],
  open: { n: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    sockets.push(s);
    let got = '';
    s.setTimeout(10_000, () => s.destroy(new Error('idle connection: no answer')));
    s.once('connect', () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`),
    );
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        s.setTimeout(0);
        open.n++;
        resolve();
      }
    });
    s.once('close', () => {
      if (got.includes('\r\n\r\n')) open.n--;
    });
    s.once('error', reject);
  });
}

export async function measureIdle(
  h: Harness,
  c: Contender,
  path: string,
  count: number,
): Promise<IdleResult> {
  const sut = await c.start(h);
  const sockets: net.Socket[] = [];
  const open = { n: 0 };
  let before: number | null = null;
  let idle: number | null = null;
  let stillOpen = 0;
  let error: string | null = null;
  try {
    await runLoad({ port: sut.port, path, connections: 16, seconds: 1 });
    await sleep(500);
    before = treeRssBytes(sut.pid);
    // Batches of 100 so the accept queue never overflows; bounded by count.
    for (let i = 0; i < count; i += 100) {
      const batch = Array.from({ length: Math.min(100, count - i) }, () =>
        openOne(sut.port, path, sockets, open),
      );
      await Promise.all(batch);
    }
    await sleep(500);
    idle = treeRssBytes(sut.pid);
    stillOpen = open.n;
  } catch (e) {
    error = (e as Error).message;
  } finally {
    for (const s of sockets) s.destroy();
    await sut.stop();
  }
  return {
    contender: c.name,
    path,
    connections: count,
    stillOpen,
    rssBeforeBytes: before,
    rssIdleBytes: idle,
    bytesPerConnection:
      before !== null && idle !== null && stillOpen > 0 ? (idle - before) / stillOpen : null,
    error,
  };
}
