import { describe, expect, it } from 'vitest';
import { responseHeaders } from '../../../src/proxy/outgoing.js';

describe('responseHeaders', () => {
  it('passes the upstream headers minus framing, hop-by-hop, Connection-named and x402 ones', () => {
    const headers = responseHeaders({
      'content-type': 'application/json',
      'content-length': '12',
      'set-cookie': ['a=1', 'b=2'],
      connection: 'keep-alive, X-Hop',
      'x-hop': 'this connection only',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      'payment-response': 'forged receipt',
      'x-payment-response': 'forged receipt',
      'payment-required': 'forged challenge',
      'x-kept': 'yes',
    });
    expect(headers).toEqual({
      'content-type': 'application/json',
      'content-length': '12',
      'set-cookie': ['a=1', 'b=2'],
      'x-kept': 'yes',
    });
  });

  it('with the usual Connection value keeps everything else', () => {
    expect(responseHeaders({ connection: 'Keep-Alive', 'x-kept': 'yes' })).toEqual({
      'x-kept': 'yes',
    });
  });
});
