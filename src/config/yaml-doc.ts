/**
 * The YAML side of loading: parse with positions, `${NAME}` interpolation, duplicate keys, and
 * finding the line of a key path so every problem can point at its line.
 */
import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
  type Scalar,
} from 'yaml';
import type { ConfigProblem } from './types.js';

export type KeyPath = readonly (string | number)[];

/** Collects problems; `at` finds the line of a key path in the document. */
export class ProblemSink {
  readonly problems: ConfigProblem[] = [];
  /**
   * Paths whose value is already known to be broken (e.g. an unset `${NAME}`): later problems there
   * are noise.
   */
  private readonly settled = new Set<string>();
  constructor(private readonly yaml: ParsedYaml | undefined) {}

  /** Report nothing more at `path`: its real problem was recorded already. */
  settle(path: KeyPath): void {
    this.settled.add(formatPath(path));
  }

  /** Record a problem at a key path; the line is looked up unless given. */
  add(path: KeyPath, message: string, line?: number): void {
    if (this.settled.has(formatPath(path))) return;
    // The document as a whole (path []) has no single line worth pointing at.
    const where = line ?? (path.length === 0 ? undefined : this.yaml?.lineOf(path));
    const problem: { path: string; message: string; line?: number } = {
      path: formatPath(path),
      message,
    };
    if (where !== undefined) problem.line = where;
    this.problems.push(problem);
  }
}

/** `['routes', 'GET /v1/quote', 'price']` → `routes.GET /v1/quote.price`. */
export function formatPath(path: KeyPath): string {
  return path.map(String).join('.');
}

function keyText(node: unknown): string | undefined {
  if (isScalar(node)) return String(node.value);
  return undefined;
}

/** A parsed document and its line counter. */
export class ParsedYaml {
  constructor(
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** 1-based line of a source offset. */
  lineAt(offset: number): number {
    return this.lines.linePos(offset).line;
  }

  lineOfNode(node: unknown): number | undefined {
    const range = (node as Node | null | undefined)?.range;
    return range ? this.lineAt(range[0]) : undefined;
  }

  /** The node at a key path (aliases followed), or undefined. */
  nodeAt(path: KeyPath): unknown {
    let node: unknown = this.doc.contents;
    for (const seg of path) {
      node = this.resolve(node);
      if (isMap(node)) {
        node = node.items.find((p) => keyText(p.key) === String(seg))?.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
      } else {
        return undefined;
      }
    }
    return this.resolve(node);
  }

  /**
   * Line of the deepest key of `path` that exists: the key's own line when it exists, else the line
   * of the nearest enclosing key (a missing required key is reported where its parent is).
   */
  lineOf(path: KeyPath): number | undefined {
    let node: unknown = this.doc.contents;
    let line: number | undefined; // a missing top-level key has no line of its own
    for (const seg of path) {
      node = this.resolve(node);
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(seg));
        if (pair === undefined) break;
        line = this.lineOfNode(pair.key) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        node = node.items[seg];
        line = this.lineOfNode(node) ?? line;
      } else {
        break;
      }
    }
    return line;
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }
}

/**
 * Parse YAML 1.2 (core schema) keeping positions. Duplicate keys are left in and reported by us,
 * with both lines.
 */
export function parseYaml(text: string, sink: ProblemSink, lines: LineCounter): ParsedYaml {
  const doc = parseDocument(text, {
    lineCounter: lines,
    uniqueKeys: false,
    prettyErrors: false,
    merge: false,
    version: '1.2',
  });
  for (const e of [...doc.errors, ...doc.warnings]) {
    const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
    sink.add([], `YAML: ${e.message.split('\n')[0] ?? e.message}`, line);
  }
  return new ParsedYaml(doc, lines);
}

export function newLineCounter(): LineCounter {
  return new LineCounter();
}

const REFERENCE = /\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replace `${NAME}` in every string scalar value from `env`, in place, before validation. An unset
 * variable or a malformed reference is a problem. A plain (unquoted) scalar whose result is a
 * decimal integer or true/false takes that type, so `port: ${PORT}` works as a number; quote it to
 * keep a string.
 */
export function interpolate(yaml: ParsedYaml, env: NodeJS.ProcessEnv, sink: ProblemSink): void {
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        visit(pair.value, [...path, keyText(pair.key) ?? '?']);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('${')) {
      substitute(node as Scalar<string>, path);
    }
  };
  const substitute = (node: Scalar<string>, path: KeyPath): void => {
    const line = yaml.lineOfNode(node);
    const text = node.value;
    if (text.replace(REFERENCE, '').includes('${')) {
      sink.add(path, 'unterminated "${" (write ${NAME})', line);
      sink.settle(path);
      return;
    }
    let failed = false;
    const result = text.replace(REFERENCE, (_whole, name: string) => {
      if (!NAME.test(name)) {
        sink.add(path, `"\${${name}}" is not a valid variable reference (write \${NAME})`, line);
        failed = true;
        return '';
      }
      const value = env[name];
      if (value === undefined) {
        sink.add(path, `environment variable ${name} is not set`, line);
        failed = true;
        return '';
      }
      return value;
    });
    if (failed) {
      sink.settle(path);
      return;
    }
    node.source = result;
    if (node.type === 'PLAIN' && /^(0|[1-9][0-9]{0,15})$/.test(result)) {
      (node as Scalar<unknown>).value = Number(result);
    } else if (node.type === 'PLAIN' && (result === 'true' || result === 'false')) {
      (node as Scalar<unknown>).value = result === 'true';
    } else {
      node.value = result;
    }
  };
  visit(yaml.doc.contents, []);
}

/** Report every key that appears twice in one mapping, naming both lines. */
export function reportDuplicateKeys(yaml: ParsedYaml, sink: ProblemSink): void {
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (isMap(node)) {
      const seen = new Map<string, number | undefined>();
      for (const pair of node.items) {
        const key = keyText(pair.key) ?? '?';
        const line = yaml.lineOfNode(pair.key);
        if (seen.has(key)) {
          const first = seen.get(key);
          sink.add(
            [...path, key],
            `duplicate key "${key}"${first === undefined ? '' : ` (first at line ${first})`}`,
            line,
          );
        } else {
          seen.set(key, line);
        }
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => visit(item, [...path, i]));
    }
  };
  visit(yaml.doc.contents, []);
}
