/**
 * A snapshot of the gateway's TypeScript sources, transpiled to JavaScript in a temporary folder
 * (TypeScript's `transpileModule`, file by file, with the project's compiler options: what
 * `npm run build` emits, without the type check), for tests that start many gateway processes.
 *
 * Why: a process started through tsx (`node --import tsx src/cli/main.ts`) resolves and loads
 * every module through tsx's loader hooks, which costs ~2 s of CPU per start on top of the ~1 s
 * of the compiled gateway; a test that restarts the gateway twenty times spends most of its time
 * there. The snapshot runs as the compiled gateway does (its ledger writer is the compiled
 * `sqlite-worker.js`), from the sources as they are when the test file starts.
 *
 * The folder mirrors the repository (`src/…` beside links to `package.json`, `node_modules` and
 * `config`), so paths the gateway resolves from its own location still resolve.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface GatewayBuild {
  /** The CLI entry point (`src/cli/main.js` of the snapshot), for `startGatewayProcess`. */
  readonly main: string;
  remove(): void;
}

function* tsFiles(folder: string): Generator<string> {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Transpile `src/` now (about a second); remove the folder when done. */
export function buildGatewaySnapshot(): GatewayBuild {
  const out = mkdtempSync(join(tmpdir(), 'x402-gw-build-'));
  try {
    const src = join(ROOT, 'src');
    for (const file of tsFiles(src)) {
      // What tsx does to each file it loads: esbuild's TypeScript transform, ES module output.
      const { code } = transformSync(readFileSync(file, 'utf8'), {
        loader: 'ts',
        format: 'esm',
        target: 'es2022',
        sourcefile: file,
      });
      const target = join(out, 'src', relative(src, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, code);
    }
    // Bare imports resolve through node_modules above the file; package.json says "type": "module".
    for (const name of ['node_modules', 'package.json', 'config']) {
      symlinkSync(join(ROOT, name), join(out, name));
    }
  } catch (error) {
    rmSync(out, { recursive: true, force: true });
    throw error;
  }
  return {
    main: join(out, 'src', 'cli', 'main.js'),
    remove: () => rmSync(out, { recursive: true, force: true }),
  };
}
