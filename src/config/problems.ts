/**
 * Zod issues → ConfigProblems with key paths, and the one-line-per-problem text printed at
 * start-up.
 */
import type { z } from 'zod';
import type { ConfigProblem } from './types.js';
import type { KeyPath, ProblemSink } from './yaml-doc.js';

function describe(issue: z.ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (issue.received === 'undefined') return 'is required';
    // Keep our own messages (they name the unit or the fix); reword zod's generic one.
    if (!issue.message.startsWith('Expected ')) return issue.message;
    return `must be ${article(issue.expected)}, got ${issue.received}`;
  }
  return issue.message;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/**
 * Add one problem per zod issue under `base`. Unknown keys become one problem each, at the key
 * itself, so the line points at the typo.
 */
export function addZodIssues(sink: ProblemSink, base: KeyPath, error: z.ZodError): void {
  for (const issue of error.issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) sink.add([...path, key], `unknown key "${key}"`);
    } else if (issue.code === 'invalid_union' && issue.unionErrors.length > 0) {
      // Report the union's own message, not every branch's.
      sink.add(path, issue.message === 'Invalid input' ? 'has an invalid value' : issue.message);
    } else {
      sink.add(path, describe(issue));
    }
  }
}

/**
 * One line per problem: `file:line: path: message` (line or path left out when unknown or empty),
 * in the order they were found.
 */
export function formatProblems(problems: readonly ConfigProblem[], sourceName: string): string {
  return problems
    .map((p) => {
      const where = p.line === undefined ? sourceName : `${sourceName}:${p.line}`;
      return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
    })
    .join('\n');
}
