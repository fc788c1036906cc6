/**
 * A throwaway certificate authority and a server certificate it signed for 127.0.0.1 / localhost,
 * made with the system's `openssl` (node:crypto cannot sign X.509): what an https upstream with a
 * private CA looks like.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

export interface TestCerts {
  /** The CA certificate, PEM. */
  readonly caPem: string;
  /** The CA certificate's file. */
  readonly caFile: string;
  readonly serverKey: string;
  readonly serverCert: string;
  remove(): void;
}

export function makeTestCerts(): TestCerts {
  const dir = tempDir('x402-tls-');
  const at = (name: string): string => join(dir.path, name);
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe', timeout: 20_000 });
  };
  run(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=x402 test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
  run(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    at('server.key'),
    '-out',
    at('server.csr'),
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(
    at('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    at('server.csr'),
    '-CA',
    at('ca.pem'),
    '-CAkey',
    at('ca.key'),
    '-CAcreateserial',
    '-out',
    at('server.pem'),
    '-days',
    '2',
    '-extfile',
    at('server.ext'),
  );
  return {
    caPem: readFileSync(at('ca.pem'), 'utf8'),
    caFile: at('ca.pem'),
    serverKey: readFileSync(at('server.key'), 'utf8'),
    serverCert: readFileSync(at('server.pem'), 'utf8'),
    remove: () => dir.remove(),
  };
}
