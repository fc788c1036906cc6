/**
 * The client-facing facts of a request: the host and scheme the client addressed (forwarded ones
 * only behind a trusted proxy), and that no pipeline code writes to the client's request, so the
 * facts cannot change under a later stage (the bug that put the upstream's host in a 402).
 */
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../../src/config/types.js';
import { clientHost, clientProto } from '../../../src/pipeline/request-facts.js';

function request(headers: Record<string, string>, encrypted = false): IncomingMessage {
  return { headers, socket: encrypted ? { encrypted: true } : {} } as unknown as IncomingMessage;
}
const server = (trustProxy: boolean): ServerConfig =>
  ({ trustProxy, listen: { host: '127.0.0.1', port: 8402 } }) as unknown as ServerConfig;

describe('clientHost and clientProto', () => {
  it('read Host and the socket, ignoring X-Forwarded-* from an untrusted client', () => {
    const req = request({
      host: 'api.example.com',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
    });
    expect(clientHost(req, server(false))).toBe('api.example.com');
    expect(clientProto(req, server(false))).toBe('http');
    expect(clientProto(request({}, true), server(false))).toBe('https');
  });

  it('behind a trusted proxy, take the first X-Forwarded-Host and -Proto', () => {
    const req = request({
      host: 'internal:8402',
      'x-forwarded-host': 'api.example.com, proxy.local',
      'x-forwarded-proto': 'HTTPS, http',
    });
    expect(clientHost(req, server(true))).toBe('api.example.com');
    expect(clientProto(req, server(true))).toBe('https');
  });

  it('without a Host, name the listener', () => {
    expect(clientHost(request({}), server(false))).toBe('127.0.0.1:8402');
  });
});

describe('the client’s request is read, never written', () => {
  const dir = path.resolve(import.meta.dirname, '../../../src/pipeline');
  const files = (d: string): string[] =>
    fs
      .readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : [path.join(d, e.name)]))
      .filter((f) => f.endsWith('.ts'));
  // An assignment to the request or anything under it: `req.url = …`, `ctx.req.headers.host = …`,
  // `req.headers['x'] = …`, `delete req.headers.x`.
  const WRITE =
    /(?:\breq(?:\.\w+|\[[^\]]+\])+\s*(?:=(?!=)|\+=)|\bdelete\s+(?:ctx\.)?req\b|\bObject\.assign\(\s*(?:ctx\.)?req\b)/;

  it('no pipeline file assigns to req or its headers', () => {
    const writes = files(dir).flatMap((f) =>
      fs
        .readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => `${path.relative(dir, f)}:${i + 1}: ${line.trim()}`)
        .filter((l) => WRITE.test(l.slice(l.indexOf(': ') + 2))),
    );
    expect(writes).toEqual([]);
  });

  it('the check sees the writes it is for', () => {
    for (const line of [
      'req.headers = upstreamHeaders(req.headers);',
      'req.url = ctx.path + ctx.search;',
      "ctx.req.headers['host'] = host;",
      'delete req.headers.connection;',
    ]) {
      expect(WRITE.test(line), line).toBe(true);
    }
    expect(WRITE.test('const body = requestBody(req, max);')).toBe(false);
    expect(WRITE.test("if (req.headers.host === '') return;")).toBe(false);
  });
});
