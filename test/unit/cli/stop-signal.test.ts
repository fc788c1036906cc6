import { describe, expect, it } from 'vitest';
import { waitForStop } from '../../../src/cli/stop-signal.js';

describe('waitForStop', () => {
  it('resolves on an abort and removes its signal listeners', async () => {
    const before = process.listenerCount('SIGTERM');
    const controller = new AbortController();
    const stopped = waitForStop(controller.signal);
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    controller.abort();
    expect(await stopped).toBe('abort');
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('resolves on SIGTERM with its name', async () => {
    const stopped = waitForStop();
    process.emit('SIGTERM', 'SIGTERM');
    expect(await stopped).toBe('SIGTERM');
  });

  it('ignores SIGHUP with a line (node would die on it), and stops listening once resolved', async () => {
    const hangups: number[] = [];
    const controller = new AbortController();
    const stopped = waitForStop(controller.signal, undefined, () => hangups.push(1));
    let resolved = false;
    void stopped.then(() => (resolved = true));
    process.emit('SIGHUP', 'SIGHUP');
    await new Promise((r) => setTimeout(r, 10));
    expect(hangups).toEqual([1]);
    expect(resolved).toBe(false);
    const before = process.listenerCount('SIGHUP');
    controller.abort();
    expect(await stopped).toBe('abort');
    expect(process.listenerCount('SIGHUP')).toBe(before - 1);
  });

  it('resolves at once when the signal is already aborted', async () => {
    expect(await waitForStop(AbortSignal.abort())).toBe('abort');
  });
});
