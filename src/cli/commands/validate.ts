/**
 * `x402-gateway validate --config FILE`: print every problem of a config file with its line and
 * exit 1, or print "ok" and exit 0. Starts nothing.
 */
import { formatProblems, loadConfigFile } from '../../config/index.js';
import { configFlag } from '../flags.js';

export async function runValidateCommand(args: readonly string[]): Promise<number> {
  const path = configFlag(args);
  if (path === undefined) {
    process.stderr.write('validate needs --config FILE\n');
    return 2;
  }
  const result = await loadConfigFile(path, process.env);
  if (!result.ok) {
    process.stderr.write(`${formatProblems(result.problems, path)}\n`);
    process.stderr.write(`${result.problems.length} problem(s) in ${path}\n`);
    return 1;
  }
  process.stdout.write(`${path}: ok (${result.config.routes.length} routes)\n`);
  return 0;
}
