/**
 * The gateway's version, read once from its package.json (two folders up from this file, in src/
 * and in dist/ alike; a few more are tried for other layouts). `unknown` if none is found: a
 * metric must never stop the gateway from starting.
 */
import { readFileSync } from 'node:fs';

const PACKAGE_NAME = 'x402-gateway';

let cached: string | undefined;

export function gatewayVersion(): string {
  cached ??= readVersion();
  return cached;
}

function readVersion(): string {
  for (const up of ['../../', '../', '../../../']) {
    try {
      const text = readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8');
      const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there: try the next folder
    }
  }
  return 'unknown';
}
