/**
 * validate reports every independent problem at once (issue 13): schema problems, route and price
 * problems and cross-field problems of one file, none hidden behind another.
 */
import { describe, expect, it } from 'vitest';
import { loadConfigText, type ConfigProblem } from '../../../src/config/index.js';

function problems(yaml: string): readonly ConfigProblem[] {
  const r = loadConfigText(yaml, {}, 'test.yaml');
  if (r.ok) throw new Error('expected config to be refused');
  return r.problems;
}

const where = (ps: readonly ConfigProblem[]): string[] =>
  ps.map((p) => `${p.line}: ${p.path}: ${p.message.split(':')[0]}`);

describe('loadConfigText: every independent problem at once', () => {
  it('reports schema, route, price and cross-field problems of one file together', () => {
    const ps = problems(
      [
        'server:', //                                     1
        '  listen: 127.0.0.1:8402', //                    2
        '  admin: 127.0.0.1:8402', //                     3 cross-field: same as listen
        '  shutdownTimeoutMs: -5', //                     4 schema
        'bogus: 1', //                                    5 schema: unknown key
        'upstream: http://user:secret@127.0.0.1:9000', // 6 credentials
        'payment:', //                                    7
        '  payTo: "0x1111111111111111111111111111111111111111"',
        'routes:', //                                     9
        '  "GET /a":', //                                10
        '    price: "abc"', //                           11 price, beside...
        '    colour: red', //                            12 ...an unknown key
        '  "FETCH /b": "zzz"', //                        13 bad method AND bad price
        '',
      ].join('\n'),
    );
    expect(where(ps)).toEqual([
      '3: server.admin: must differ from server.listen',
      '4: server.shutdownTimeoutMs: must be a positive integer (ms)',
      '5: bogus: unknown key "bogus"',
      '6: upstream: must not carry credentials ("user',
      '11: routes.GET /a.price: price "abc" must be a plain decimal number of whole tokens such as "$0.01", "0.01" or 0 (no sign, exponent, separators or spaces)',
      '12: routes.GET /a.colour: unknown key "colour"',
      '13: routes.FETCH /b: method "FETCH" is not one of GET, POST, PUT, PATCH, DELETE, OPTIONS (upper case)',
      '13: routes.FETCH /b: price "zzz" must be a plain decimal number of whole tokens such as "$0.01", "0.01" or 0 (no sign, exponent, separators or spaces)',
    ]);
  });

  it('skips checks that need a route key already reported invalid, without a second report', () => {
    const ps = problems(
      [
        'upstream: http://127.0.0.1:9000',
        'routes:',
        '  "GET /a":',
        '    price: "$0.0000001"',
        '    network: nowhere', // the price needs the network's decimals: not checked
        '    payTo: "0xnot"',
        '',
      ].join('\n'),
    );
    expect(ps.map((p) => p.path)).toEqual(['routes.GET /a.network', 'routes.GET /a.payTo']);
  });

  it('never echoes the password of an upstream URL', () => {
    const [p] = problems('upstream: https://deploy:s3cr3t@api.internal\nroutes:\n  "GET /a": 0\n');
    expect(p?.message).toContain('"deploy:…@"');
    expect(p?.message).not.toContain('s3cr3t');
  });

  it('accepts the same file once every problem is fixed', () => {
    const r = loadConfigText(
      [
        'upstream: http://127.0.0.1:9000',
        'payment: { payTo: "0x1111111111111111111111111111111111111111" }',
        'routes:',
        '  "GET /a":',
        '    price: "$0.01"',
        '  "POST /b": "0.02"',
        '',
      ].join('\n'),
      {},
      'test.yaml',
    );
    expect(r.ok).toBe(true);
  });
});
