import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BatchedStdout } from '../../../src/log/destination.js';

function sink() {
  const writes: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      writes.push(chunk.toString());
      done();
    },
  });
  return { out, writes };
}

describe('BatchedStdout', () => {
  it('writes the lines that arrive within the flush interval in a single write, in order', async () => {
    const { out, writes } = sink();
    const dest = new BatchedStdout(out);
    dest.write('a\n');
    dest.write('b\n');
    dest.write('c\n');
    expect(writes).toEqual([]);
    await new Promise((r) => setTimeout(r, 5));
    dest.write('d\n');
    expect(writes).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(writes).toEqual(['a\nb\nc\nd\n']);
  });

  it('flushes at once when a burst passes the buffer cap', () => {
    const { out, writes } = sink();
    const dest = new BatchedStdout(out);
    const line = `${'x'.repeat(1023)}\n`;
    for (let i = 0; i < 32; i++) dest.write(line);
    expect(writes.join('').length).toBe(32 * 1024);
  });

  it('flush() hands over everything buffered, and nothing twice', async () => {
    const { out, writes } = sink();
    const dest = new BatchedStdout(out);
    dest.write('one\n');
    dest.flush();
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual(['one\n']);
  });
});
