import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CdpKeyError, parseCdpSecret } from '../../../src/config/index.js';
import { ecTestKey, ed25519TestKey } from '../../helpers/cdp-jwt-check.js';

/** The error a secret is refused with; it must never quote the secret. */
function refusal(secret: string): string {
  try {
    parseCdpSecret(secret);
  } catch (err) {
    expect(err).toBeInstanceOf(CdpKeyError);
    const message = (err as Error).message;
    expect(message).not.toContain(secret.trim());
    for (const line of secret.split('\n').filter((l) => l.length > 20)) {
      expect(message).not.toContain(line);
    }
    return message;
  }
  throw new Error('accepted');
}

describe('parseCdpSecret', () => {
  it('takes an EC key as a SEC1 PEM and gives PKCS#8 for ES256', () => {
    const key = ecTestKey();
    expect(key.apiKeySecret).toContain('-----BEGIN EC PRIVATE KEY-----');
    const m = parseCdpSecret(key.apiKeySecret);
    expect(m.alg).toBe('ES256');
    expect(m.alg === 'ES256' && m.pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('takes the PEM with literal \\n escapes, as an env var often carries it', () => {
    const key = ecTestKey();
    expect(parseCdpSecret(key.apiKeySecret.replace(/\n/g, '\\n')).alg).toBe('ES256');
  });

  it('takes an Ed25519 key as 64 base64 bytes: d = the first 32, x = the last 32', () => {
    const key = ed25519TestKey();
    const bytes = Buffer.from(key.apiKeySecret, 'base64');
    const m = parseCdpSecret(key.apiKeySecret);
    expect(m).toEqual({
      alg: 'EdDSA',
      jwk: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: bytes.subarray(0, 32).toString('base64url'),
        x: bytes.subarray(32).toString('base64url'),
      },
    });
    expect(m.alg === 'EdDSA' && m.jwk.x).toBe(key.publicKey.export({ format: 'jwk' }).x);
  });

  it('refuses anything else, without the secret in the message', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .privateKey.export({ type: 'sec1', format: 'pem' })
      .toString();
    expect(refusal(p384)).toMatch(/P-256/);
    const pkcs8 = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(refusal(pkcs8)).toMatch(/EC PRIVATE KEY/);
    const broken = ecTestKey().apiKeySecret.replace(/[A-Za-z0-9]{10}\n/, 'xx\n');
    expect(refusal(broken)).toMatch(/does not parse/);
    expect(refusal(Buffer.alloc(32, 7).toString('base64'))).toMatch(/decodes to 32 bytes/);
    expect(refusal('not a key at all, sorry')).toMatch(/not base64/);
    // The seed of one key with the public key of another.
    const a = Buffer.from(ed25519TestKey().apiKeySecret, 'base64');
    const b = Buffer.from(ed25519TestKey().apiKeySecret, 'base64');
    const mixed = Buffer.concat([a.subarray(0, 32), b.subarray(32)]).toString('base64');
    expect(refusal(mixed)).toMatch(/inconsistent/);
  });
});
