/**
 * CDP's side of the facilitator authentication, for tests: a CDP API key in the formats Coinbase
 * issues (an EC P-256 key as SEC1 `EC PRIVATE KEY` PEM, an Ed25519 key as 64 base64 bytes: seed
 * then public key), and a check of a request's `Authorization: Bearer <jwt>` as CDP does it, with
 * jose: the signature against the public key, `alg`, `kid`, `typ`, a `nonce`, `sub`, `iss: cdp`,
 * `aud: [cdp_service]`, `nbf`/`exp` (at most 120 s apart), and `uris` equal to the request's
 * `METHOD host/path`. Plug `authorizer` into startTestFacilitator's `authorize` option.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type http from 'node:http';
import { decodeProtectedHeader, jwtVerify } from 'jose';

export interface CdpTestKey {
  readonly alg: 'ES256' | 'EdDSA';
  readonly apiKeyId: string;
  /** The secret as Coinbase hands it out. */
  readonly apiKeySecret: string;
  readonly publicKey: KeyObject;
}

/** A fresh EC P-256 key, its secret a SEC1 PEM (`-----BEGIN EC PRIVATE KEY-----`). */
export function ecTestKey(apiKeyId: string = randomUUID()): CdpTestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const apiKeySecret = privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  return { alg: 'ES256', apiKeyId, apiKeySecret, publicKey };
}

/** A fresh Ed25519 key, its secret base64 of the 32-byte seed then the 32-byte public key. */
export function ed25519TestKey(apiKeyId: string = randomUUID()): CdpTestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const bytes = Buffer.concat([
    Buffer.from(jwk.d ?? '', 'base64url'),
    Buffer.from(jwk.x ?? '', 'base64url'),
  ]);
  return { alg: 'EdDSA', apiKeyId, apiKeySecret: bytes.toString('base64'), publicKey };
}

export interface CdpJwtExpectation {
  readonly key: Pick<CdpTestKey, 'alg' | 'apiKeyId' | 'publicKey'>;
  readonly method: string;
  /** `host[:port]` as the request reached us. */
  readonly host: string;
  /** The request's path, without the query. */
  readonly path: string;
  /** Clock, unix seconds (default now). */
  readonly nowSec?: number;
}

/** Why the request's JWT is refused, or undefined when CDP would accept it. */
export async function checkCdpJwt(
  authorization: string | undefined,
  expect: CdpJwtExpectation,
): Promise<string | undefined> {
  const m = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(authorization ?? '');
  if (m === null) return 'missing or malformed bearer token';
  const token = m[1] as string;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== expect.key.alg) return `alg ${String(header.alg)}`;
    if (header.kid !== expect.key.apiKeyId) return 'kid is not the key id';
    if (header.typ !== 'JWT') return 'typ is not JWT';
    if (typeof header.nonce !== 'string' || !/^[0-9a-f]{32}$/.test(header.nonce)) {
      return 'no 16-byte hex nonce';
    }
    const { payload } = await jwtVerify(token, expect.key.publicKey, {
      algorithms: [expect.key.alg],
      issuer: 'cdp',
      audience: 'cdp_service',
      subject: expect.key.apiKeyId,
      requiredClaims: ['nbf', 'exp', 'uris'],
      ...(expect.nowSec === undefined ? {} : { currentDate: new Date(expect.nowSec * 1000) }),
    });
    if (!Array.isArray(payload.aud) || payload.aud.length !== 1) return 'aud is not [cdp_service]';
    if ((payload.exp ?? 0) - (payload.nbf ?? 0) > 120) return 'lives longer than 120 s';
    const uris = payload.uris;
    const want = `${expect.method} ${expect.host}${expect.path}`;
    if (!Array.isArray(uris) || uris.length !== 1 || uris[0] !== want) {
      return `uris ${JSON.stringify(uris)} is not ["${want}"]`;
    }
    return undefined;
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : 'invalid token';
  }
}

/** startTestFacilitator's `authorize`: every request must carry a JWT of `key`. */
export function authorizer(
  key: CdpJwtExpectation['key'],
  nowSec?: () => number,
): (request: {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
}) => Promise<string | undefined> {
  return (request) =>
    checkCdpJwt(request.headers.authorization, {
      key,
      method: request.method,
      host: request.headers.host ?? '',
      path: request.path,
      ...(nowSec === undefined ? {} : { nowSec: nowSec() }),
    });
}
