/**
 * `x402-gateway validate --config FILE`: print every problem of a config file with its line and
 * exit 1, or print "ok" and exit 0. Starts nothing.
 */
import { loadConfigArg } from '../config-arg.js';

export async function runValidateCommand(args: readonly string[]): Promise<number> {
  const loaded = await loadConfigArg('validate', args, (count, path) =>
    process.stderr.write(`${count} problem(s) in ${path}\n`),
  );
  if (!loaded.ok) return loaded.exitCode;
  process.stdout.write(`${loaded.path}: ok (${loaded.config.routes.length} routes)\n`);
  return 0;
}
