/** A writable that collects each line written to it: what a pino logger printed, line by line. */
import { Writable } from 'node:stream';

export function lineSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  return { stream, lines };
}
