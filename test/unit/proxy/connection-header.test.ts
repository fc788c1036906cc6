import { describe, expect, it } from 'vitest';
import { namedByConnection } from '../../../src/proxy/connection-header.js';

describe('namedByConnection', () => {
  it('names nothing for the usual options, in any case', () => {
    for (const value of [undefined, 'keep-alive', 'Keep-Alive', 'close', 'CLOSE']) {
      expect(namedByConnection(value)).toBeUndefined();
    }
  });

  it('lists every other token, trimmed and in lower case', () => {
    expect([...namedByConnection('keep-alive, X-Hop ,te')!]).toEqual(['keep-alive', 'x-hop', 'te']);
    expect([...namedByConnection('X-Secret')!]).toEqual(['x-secret']);
  });
});
