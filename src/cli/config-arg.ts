/**
 * The `--config FILE` that start and validate share: read it, and on a problem say what is wrong
 * (every problem with its line) and give the exit code, so each command only says what it adds.
 */
import { formatProblems, loadConfigFile, type GatewayConfig } from '../config/index.js';
import { configFlag } from './flags.js';

export type ConfigArg =
  | { readonly ok: true; readonly path: string; readonly config: GatewayConfig }
  /** Usage error (2) or an invalid config (1); the reason is already on stderr. */
  | { readonly ok: false; readonly exitCode: number };

export async function loadConfigArg(
  command: string,
  args: readonly string[],
  onProblems: (count: number, path: string) => void = () => undefined,
  options: { readonly withLedger?: boolean } = {},
): Promise<ConfigArg> {
  const path = configFlag(args, options.withLedger === true);
  if (path === undefined) {
    process.stderr.write(`${command} needs --config FILE (see --help)\n`);
    return { ok: false, exitCode: 2 };
  }
  const result = await loadConfigFile(path, process.env);
  if (!result.ok) {
    process.stderr.write(`${formatProblems(result.problems, path)}\n`);
    onProblems(result.problems.length, path);
    return { ok: false, exitCode: 1 };
  }
  return { ok: true, path, config: result.config };
}
