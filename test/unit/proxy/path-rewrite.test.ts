import { describe, expect, it } from 'vitest';
import { rewritePath, undoRewrite } from '../../../src/proxy/path-rewrite.js';
import { publicLocation } from '../../../src/proxy/outgoing.js';

const replace = { prefix: '/api', replace: '/v2' };
const strip = { prefix: '/api', replace: '' };

describe('rewritePath', () => {
  it('replaces or strips whole leading segments, case-insensitively as routes match', () => {
    expect(rewritePath('/api/items/7', replace)).toBe('/v2/items/7');
    expect(rewritePath('/API/items', replace)).toBe('/v2/items');
    expect(rewritePath('/api', replace)).toBe('/v2');
    expect(rewritePath('/api/items/7', strip)).toBe('/items/7');
    expect(rewritePath('/api', strip)).toBe('/');
  });

  it('leaves a path the prefix does not lead (a longer first segment) as it is', () => {
    expect(rewritePath('/apis/x', replace)).toBe('/apis/x');
    expect(rewritePath('/other', strip)).toBe('/other');
  });
});

describe('undoRewrite', () => {
  it('puts the prefix back', () => {
    expect(undoRewrite('/v2/items/7', replace)).toBe('/api/items/7');
    expect(undoRewrite('/v2', replace)).toBe('/api');
    expect(undoRewrite('/v20/x', replace)).toBe('/v20/x');
    expect(undoRewrite('/items/7', strip)).toBe('/api/items/7');
  });
});

describe('publicLocation with a rewrite', () => {
  const origins = {
    upstream: 'http://10.0.0.5:3000/base',
    public: 'https://gw.example',
    rewrite: replace,
  };
  it('an absolute Location on the upstream: base path off, rewrite undone', () => {
    expect(publicLocation('http://10.0.0.5:3000/base/v2/items/7?x=1', origins)).toBe(
      'https://gw.example/api/items/7?x=1',
    );
  });
  it('a path-absolute Location is put back into the client path space', () => {
    expect(publicLocation('/base/v2/items/7', origins)).toBe('/api/items/7');
  });
  it('without a rewrite a path-absolute Location is left as it is', () => {
    expect(publicLocation('/base/v2/items/7', { ...origins, rewrite: undefined })).toBe(
      '/base/v2/items/7',
    );
  });
  it('another origin is left alone', () => {
    expect(publicLocation('http://elsewhere/v2/x', origins)).toBe('http://elsewhere/v2/x');
  });
});
