import type { ServerResponse } from 'node:http';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { RequestContext } from '../../../src/pipeline/context.js';
import type { Deps } from '../../../src/pipeline/deps.js';
import { writeHeadOrClose } from '../../../src/pipeline/replies.js';

function fixture(writeHead: () => void) {
  const res = { writeHead: vi.fn(writeHead), destroy: vi.fn() };
  const ctx = { id: 'r-1', res } as unknown as RequestContext & { outcome: string };
  const deps = { log: pino({ level: 'silent' }) } as unknown as Deps;
  return { res: res as typeof res & Partial<ServerResponse>, ctx, deps };
}

describe('writeHeadOrClose', () => {
  it('writes the head and keeps the connection', () => {
    const { res, ctx, deps } = fixture(() => {});
    expect(writeHeadOrClose(ctx, deps, 204, { vary: 'Origin' })).toBe(true);
    expect(res.writeHead).toHaveBeenCalledWith(204, { vary: 'Origin' });
    expect(res.destroy).not.toHaveBeenCalled();
  });

  it('closes the connection when node refuses a header, and writes nothing more', () => {
    const { res, ctx, deps } = fixture(() => {
      throw new TypeError('Invalid character in header content ["access-control-allow-methods"]');
    });
    expect(writeHeadOrClose(ctx, deps, 204, { 'access-control-allow-methods': 'GET\u039c' })).toBe(
      false,
    );
    expect(res.destroy).toHaveBeenCalledTimes(1);
    expect(ctx.outcome).toBe('error');
  });
});
