import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createAccessLog, type AccessRecord } from '../../../src/log/access-log.js';
import { createLogger } from '../../../src/log/logger.js';
import { lineSink } from '../../helpers/log-sink.js';

const sink = lineSink;

const flush = () => new Promise((r) => setImmediate(r));

const FULL: AccessRecord = {
  reqId: 'a1b2-1',
  method: 'GET',
  path: '/v1/quote "x"\\\u0001é\u2028',
  route: 'GET /v1/quote',
  status: 200,
  outcome: 'paid',
  reason: undefined,
  payer: '0x2222222222222222222222222222222222222222',
  amount: '1000',
  network: 'eip155:84532',
  tx: `0x${'ab'.repeat(32)}`,
  ms: 1.23,
  verifyMs: 0.5,
  upstreamMs: 0.25,
  settleMs: 0.4,
};

const SPARSE: AccessRecord = {
  ...FULL,
  method: undefined,
  outcome: 'challenge',
  reason: 'x',
  payer: undefined,
  amount: undefined,
  network: undefined,
  tx: undefined,
  verifyMs: undefined,
  upstreamMs: undefined,
  settleMs: undefined,
};

describe('createAccessLog', () => {
  it.each([
    ['a full record', FULL],
    ['a record with undefined fields', SPARSE],
  ])('writes %s as the same JSON, in the same key order, as pino would', async (_name, record) => {
    const ours = sink();
    const theirs = sink();
    createAccessLog(createLogger({ level: 'info' }, ours.stream))(record);
    createLogger({ level: 'info' }, theirs.stream).info(record);
    await flush();
    expect(ours.lines).toHaveLength(1);
    const withoutTime = (line: string) => {
      const { time, ...rest } = JSON.parse(line) as Record<string, unknown>;
      expect(typeof time).toBe('number');
      return rest;
    };
    const a = withoutTime(ours.lines[0]!);
    const b = withoutTime(theirs.lines[0]!);
    expect(a).toEqual(b);
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(a).toMatchObject({ level: 30, svc: 'x402-gateway', path: record.path });
  });

  it('writes nothing when the info level is off', async () => {
    const out = sink();
    createAccessLog(createLogger({ level: 'warn' }, out.stream))(FULL);
    await flush();
    expect(out.lines).toEqual([]);
  });

  it('works with a plain pino logger and its bindings', async () => {
    const out = sink();
    createAccessLog(pino({ base: { pid: 7 } }, out.stream))(FULL);
    await flush();
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ level: 30, pid: 7, reqId: 'a1b2-1' });
  });
});
