import { describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { CdpKeyError } from '../../../src/config/index.js';
import { CDP_JWT_LIFETIME_S, CdpAuth, cdpUri } from '../../../src/verify/cdp-auth.js';
import {
  checkCdpJwt,
  ecTestKey,
  ed25519TestKey,
  type CdpTestKey,
} from '../../helpers/cdp-jwt-check.js';

const URL_VERIFY = 'https://api.cdp.coinbase.com/platform/v2/x402/verify';
const NOW_MS = 1_790_000_000_500;
const NOW_S = 1_790_000_000;

describe.each([
  ['EC P-256 (SEC1 PEM)', ecTestKey],
  ['Ed25519 (64 base64 bytes)', ed25519TestKey],
])('CdpAuth with an %s key', (_name, make: () => CdpTestKey) => {
  it('mints the header and claims the CDP SDK mints, exactly', async () => {
    const key = make();
    const auth = new CdpAuth({ apiKeyId: key.apiKeyId, apiKeySecret: key.apiKeySecret });
    expect(auth.alg).toBe(key.alg);
    const token = await auth.mint('post', URL_VERIFY, NOW_MS);
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({
      alg: key.alg,
      kid: key.apiKeyId,
      typ: 'JWT',
      nonce: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
    });
    expect(decodeJwt(token)).toEqual({
      sub: key.apiKeyId,
      iss: 'cdp',
      aud: ['cdp_service'],
      uris: ['POST api.cdp.coinbase.com/platform/v2/x402/verify'],
      iat: NOW_S,
      nbf: NOW_S,
      exp: NOW_S + CDP_JWT_LIFETIME_S,
    });
    expect(CDP_JWT_LIFETIME_S).toBe(120);
    const at = { key, method: 'POST', host: 'api.cdp.coinbase.com' };
    const path = '/platform/v2/x402/verify';
    // Verified as CDP would: signature, claims, window, method and URI.
    expect(await checkCdpJwt(`Bearer ${token}`, { ...at, path, nowSec: NOW_S + 1 })).toBe(
      undefined,
    );
    expect(await checkCdpJwt(`Bearer ${token}`, { ...at, path, nowSec: NOW_S + 121 })).toMatch(
      /exp/,
    );
    expect(
      await checkCdpJwt(`Bearer ${token}`, {
        ...at,
        path: '/platform/v2/x402/settle',
        nowSec: NOW_S,
      }),
    ).toMatch(/uris/);
    expect(
      await checkCdpJwt(`Bearer ${token}`, {
        ...at,
        key: { ...make(), apiKeyId: key.apiKeyId },
        path,
        nowSec: NOW_S,
      }),
    ).toMatch(/signature/);
  });

  it('mints a fresh token, with a fresh nonce, per request', async () => {
    const key = make();
    const auth = new CdpAuth(key);
    const [a, b] = await Promise.all([auth.mint('GET', URL_VERIFY), auth.mint('GET', URL_VERIFY)]);
    expect(a).not.toBe(b);
    expect(decodeProtectedHeader(a).nonce).not.toBe(decodeProtectedHeader(b).nonce);
    const headers = await auth.headers('GET', 'http://127.0.0.1:4021/x402/supported');
    expect(headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });
});

describe('CdpAuth', () => {
  it('refuses a wrong key or an empty id, never quoting the secret', () => {
    const secret = Buffer.alloc(48, 9).toString('base64');
    let message = '';
    try {
      new CdpAuth({ apiKeyId: 'id', apiKeySecret: secret });
    } catch (err) {
      expect(err).toBeInstanceOf(CdpKeyError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/64 base64 bytes/);
    expect(message).not.toContain(secret);
    expect(() => new CdpAuth({ ...ecTestKey(), apiKeyId: ' ' })).toThrow(/apiKeyId is empty/);
  });

  it('puts METHOD host[:port]/path in uris: no scheme, no query', () => {
    expect(cdpUri('get', 'http://127.0.0.1:4021/base/supported?x=1')).toBe(
      'GET 127.0.0.1:4021/base/supported',
    );
    expect(
      cdpUri('POST', new URL('https://api.cdp.coinbase.com:443/platform/v2/x402/settle')),
    ).toBe('POST api.cdp.coinbase.com/platform/v2/x402/settle');
  });
});
