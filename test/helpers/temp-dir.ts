/**
 * A fresh temporary folder (for a gateway's ledger file, a backup), removed by the returned
 * cleanup. Each gateway a test starts gets its own, so no test reads another's book.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDir {
  readonly path: string;
  remove(): void;
}

export function tempDir(prefix = 'x402-gw-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
