/**
 * The ledger's writer thread: owns the SQLite connection, so a commit's fsync never blocks the
 * event loop that serves requests. Group commit: every write that arrives while a batch commits, or
 * within COMMIT_WINDOW_MS of the last commit, joins the next batch: one transaction and one fsync
 * for all of them. A write after a quiet spell commits at once (no added wait at low load); under
 * load commits come at most every COMMIT_WINDOW_MS, each carrying many payments. Answers go back
 * in one message per batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteBook } from './sqlite-book.js';
import { isWriteOp, toWireError, type Op, type Reply, type Request } from './protocol.js';

const port = parentPort!;
const { path } = workerData as { path: string };

function send(reply: Reply): void {
  port.postMessage(reply);
}

let book: SqliteBook;
try {
  book = new SqliteBook(path);
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'open-failed', error: toWireError(err) });
  process.exit(0);
}

let queue: Request[] = [];
let scheduled = false;
/** Under load, at most one commit per this many ms (a commit's fixed cost, shared by its batch). */
const COMMIT_WINDOW_MS = 2;
let lastFlush = -Infinity;

port.on('message', (message: Request | 'close') => {
  if (message === 'close') {
    flush();
    book.close();
    port.close();
    return;
  }
  queue.push(message);
  if (!scheduled) {
    scheduled = true;
    const wait = lastFlush + COMMIT_WINDOW_MS - performance.now();
    if (wait >= 1) setTimeout(flush, wait);
    else setImmediate(flush);
  }
});

function flush(): void {
  scheduled = false;
  lastFlush = performance.now();
  const requests = queue;
  queue = [];
  if (requests.length === 0) return;
  const writes: Array<{ id: number; op: Op }> = [];
  const reads: Array<{ id: number; op: Op }> = [];
  for (const r of requests) {
    for (let i = 0; i < r.ops.length; i++) {
      const op = r.ops[i]!;
      (isWriteOp(op) ? writes : reads).push({ id: r.ids[i]!, op });
    }
  }
  const results: Array<readonly [number, unknown, ReturnType<typeof toWireError>?]> = [];
  if (writes.length > 0) {
    try {
      const answers = book.write(writes.map((w) => w.op as Parameters<SqliteBook['write']>[0][0]));
      let failedSilently = 0;
      let lastError: Error | undefined;
      answers.forEach((answer, i) => {
        const { id } = writes[i]!;
        if (answer instanceof Error) {
          if (id === 0) {
            failedSilently++;
            lastError = answer;
          } else results.push([id, undefined, toWireError(answer)]);
        } else if (id !== 0) results.push([id, answer]);
      });
      if (failedSilently > 0) {
        send({ type: 'dropped', count: failedSilently, error: toWireError(lastError) });
      }
    } catch (err) {
      // The transaction itself failed (disk full, I/O error): nothing in it was written.
      const error = toWireError(err);
      const silent = writes.filter((w) => w.id === 0).length;
      for (const w of writes) if (w.id !== 0) results.push([w.id, undefined, error]);
      if (silent > 0) send({ type: 'dropped', count: silent, error });
    }
  }
  const pending: Array<Promise<void>> = [];
  for (const { id, op } of reads) {
    try {
      if (op.op === 'backup') {
        pending.push(
          book.backup(op.path).then(
            () => send({ type: 'results', results: [[id, undefined]] }),
            (err: unknown) =>
              send({ type: 'results', results: [[id, undefined, toWireError(err)]] }),
          ),
        );
        continue;
      }
      results.push([id, read(op)]);
    } catch (err) {
      results.push([id, undefined, toWireError(err)]);
    }
  }
  if (results.length > 0) send({ type: 'results', results });
}

function read(op: Op): unknown {
  switch (op.op) {
    case 'get':
      return book.get(op.key);
    case 'list':
      return book.list(op.filter);
    case 'attempts':
      return book.attempts(op.key);
    case 'resolutions':
      return book.resolutions(op.key);
    case 'revenue':
      return book.revenue();
    case 'unresolved':
      return book.unresolved();
    default:
      throw new Error(`not a read: ${op.op}`);
  }
}
