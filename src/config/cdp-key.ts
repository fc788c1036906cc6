/**
 * A CDP API key secret (`facilitator.cdp.apiKeySecret`) as Coinbase issues it, recognised and
 * checked at load: an EC P-256 key as a SEC1 `EC PRIVATE KEY` PEM (→ PKCS#8 PEM for ES256), or an
 * Ed25519 key as 64 base64 bytes, the seed then the public key (→ an OKP JWK for EdDSA). The
 * facilitator client imports the result (verify/cdp-auth.ts). No message carries the secret.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/** A secret we cannot use; its message never contains the secret. */
export class CdpKeyError extends Error {
  override readonly name = 'CdpKeyError';
}

/** A parsed secret, ready for jose's import. */
export type CdpKeyMaterial =
  | { readonly alg: 'ES256'; readonly pkcs8: string }
  | {
      readonly alg: 'EdDSA';
      readonly jwk: { kty: 'OKP'; crv: 'Ed25519'; d: string; x: string };
    };

const PEM_EC = /-----BEGIN EC PRIVATE KEY-----/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Recognise and check a CDP API key secret. An EC key must be P-256 (ES256). For an Ed25519 key,
 * the last 32 bytes must be the public key of the first 32 (a truncated or mixed-up secret is
 * refused here, not by the facilitator on the first payment).
 */
export function parseCdpSecret(secret: string): CdpKeyMaterial {
  // Secrets pasted through an env var often carry literal `\n` instead of line breaks.
  const text = secret.trim().replace(/\\n/g, '\n');
  if (PEM_EC.test(text)) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: text, format: 'pem' });
    } catch {
      throw new CdpKeyError('the EC PRIVATE KEY PEM does not parse (value not shown)');
    }
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
      throw new CdpKeyError(`the EC key must be on P-256 (got ${curve ?? 'another type'})`);
    }
    return { alg: 'ES256', pkcs8: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }
  if (text.includes('-----BEGIN')) {
    throw new CdpKeyError(
      'a PEM secret must be an EC PRIVATE KEY (SEC1), as CDP issues it (value not shown)',
    );
  }
  const bytes = BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (bytes?.length !== 64) {
    throw new CdpKeyError(
      'must be an EC PRIVATE KEY PEM or an Ed25519 key as 64 base64 bytes' +
        (bytes === undefined
          ? ' (not base64; value not shown)'
          : ` (decodes to ${bytes.length} bytes; value not shown)`),
    );
  }
  const d = bytes.subarray(0, 32).toString('base64url');
  const x = bytes.subarray(32).toString('base64url');
  let derived: string | undefined;
  try {
    const seedOnly = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' });
    derived = createPublicKey(seedOnly).export({ format: 'jwk' }).x;
  } catch {
    derived = undefined;
  }
  if (derived !== x) {
    throw new CdpKeyError(
      'the Ed25519 secret is inconsistent: its last 32 bytes are not the public key of its first 32',
    );
  }
  return { alg: 'EdDSA', jwk: { kty: 'OKP', crv: 'Ed25519', d, x } };
}
