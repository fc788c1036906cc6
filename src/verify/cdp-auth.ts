/**
 * Authentication to Coinbase's facilitator (CDP): a short-lived JWT per request, as the CDP SDK
 * mints it. Header `{ alg, kid: <key id>, typ: 'JWT', nonce: <16 random bytes, hex> }`; claims
 * `{ sub: <key id>, iss: 'cdp', aud: ['cdp_service'], uris: ['<METHOD> <host><path>'], iat, nbf,
 * exp: +120 s }`. The `uris` entry has no scheme and no query.
 *
 * The keys as Coinbase issues them: an EC P-256 key as a SEC1 `EC PRIVATE KEY` PEM (ES256; made
 * PKCS#8 with node:crypto before jose imports it), or an Ed25519 key as 64 base64 bytes, the seed
 * then the public key (EdDSA; imported as a JWK). The secret is parsed and checked by the config
 * (config/cdp-key.ts); the imported key is kept, the JWT is not: one per request. No message here
 * ever carries the secret.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, importJWK, importPKCS8, type CryptoKey } from 'jose';
import {
  CdpKeyError,
  parseCdpSecret,
  type CdpKeyConfig,
  type CdpKeyMaterial,
} from '../config/index.js';

/** Lifetime of a minted JWT, s (the CDP SDK's default). */
export const CDP_JWT_LIFETIME_S = 120;

/** What the CDP API reads in `uris`: `METHOD host[:port]/path`, no scheme, no query. */
export function cdpUri(method: string, url: string | URL): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${method.toUpperCase()} ${u.host}${u.pathname}`;
}

/** Mints CDP JWTs for one API key. The key is parsed at construction, imported once. */
export class CdpAuth {
  readonly #keyId: string;
  readonly #material: CdpKeyMaterial;
  #key: Promise<CryptoKey> | undefined;

  /** @throws CdpKeyError when the id is empty or the secret is not a key CDP issues. */
  constructor(credentials: CdpKeyConfig) {
    if (credentials.apiKeyId.trim() === '') throw new CdpKeyError('apiKeyId is empty');
    this.#keyId = credentials.apiKeyId.trim();
    this.#material = parseCdpSecret(credentials.apiKeySecret);
  }

  get alg(): CdpKeyMaterial['alg'] {
    return this.#material.alg;
  }

  /** A fresh JWT for one request. `nowMs` is for tests. */
  async mint(method: string, url: string | URL, nowMs = Date.now()): Promise<string> {
    const key = await this.#importedKey();
    const now = Math.floor(nowMs / 1000);
    return new SignJWT({
      sub: this.#keyId,
      iss: 'cdp',
      aud: ['cdp_service'],
      uris: [cdpUri(method, url)],
    })
      .setProtectedHeader({
        alg: this.#material.alg,
        kid: this.#keyId,
        typ: 'JWT',
        nonce: randomBytes(16).toString('hex'),
      })
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + CDP_JWT_LIFETIME_S)
      .sign(key);
  }

  /** The `authorization` header of one request (the facilitator client's per-call headers). */
  async headers(method: string, url: string): Promise<Record<string, string>> {
    return { authorization: `Bearer ${await this.mint(method, url)}` };
  }

  #importedKey(): Promise<CryptoKey> {
    if (this.#key === undefined) {
      const m = this.#material;
      const imported =
        m.alg === 'ES256' ? importPKCS8(m.pkcs8, 'ES256') : importJWK(m.jwk, 'EdDSA');
      this.#key = imported.catch((err: unknown) => {
        this.#key = undefined; // a later call may try again
        // Only the error's name: nothing of the key's bytes can reach a message.
        throw new CdpKeyError(
          `cannot import the ${m.alg} key: ${err instanceof Error ? err.name : 'error'}`,
        );
      });
    }
    return this.#key;
  }
}
