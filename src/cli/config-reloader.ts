/**
 * Re-reads the config file on SIGHUP (and, with `--watch`, when the file changes) and hands it to
 * the running gateway, which swaps it in between requests or keeps the running one (server.ts).
 * One reload at a time: a request for another while one runs is kept, and runs once it is done,
 * so the last signal or change always ends with the file's last contents applied.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { ConfigResult } from '../config/index.js';
import type { ReloadReport, RunningGateway } from '../server.js';

/** Changes to the file within this long are one reload (an editor writes in several steps). */
const WATCH_SETTLE_MS = 200;

export interface ReloaderOptions {
  /** The config file (watched with `watch`). */
  readonly path: string;
  /** Load the file as the command started it (its flags' overrides applied). */
  readonly load: () => Promise<ConfigResult>;
  readonly running: Pick<RunningGateway, 'reload'>;
  readonly log: Logger;
  /** Reload when the file changes, not only on SIGHUP. */
  readonly watch?: boolean;
}

export interface ConfigReloader {
  /** Reload now (or once the reload under way is done); resolves with what that reload did. */
  reload(why: string): Promise<ReloadReport>;
  /** Stop watching the file. */
  stop(): void;
}

export function createConfigReloader(options: ReloaderOptions): ConfigReloader {
  const { log, running } = options;
  let current: Promise<ReloadReport> | undefined;
  let queued: Promise<ReloadReport> | undefined;

  const once = async (why: string): Promise<ReloadReport> => {
    log.info({ why, path: options.path }, 'reloading the config');
    let loaded: ConfigResult;
    try {
      loaded = await options.load();
    } catch (err) {
      const message = `cannot read ${options.path}: ${err instanceof Error ? err.message : String(err)}`;
      loaded = { ok: false, problems: [{ path: '', message }] };
    }
    return running.reload(loaded);
  };

  const reload = (why: string): Promise<ReloadReport> => {
    if (current === undefined) {
      current = once(why).finally(() => {
        current = undefined;
      });
      return current;
    }
    // One is under way and may have read the file before this change: one more after it. (A
    // reload never rejects: a file it cannot read is a failed reload, reported and counted.)
    queued ??= current.then(() => {
      queued = undefined;
      return reload(why);
    });
    return queued;
  };

  const watcher = options.watch === true ? watchFile(options.path, reload, log) : undefined;
  return {
    reload,
    stop: () => watcher?.stop(),
  };
}

/**
 * Watch the file's folder, not the file: editors and ConfigMaps replace a file by renaming another
 * over it, which a watch on the old inode never sees. A change is taken once the file's size,
 * mtime or inode differ from the last seen (other files in the folder change nothing).
 */
function watchFile(
  path: string,
  reload: (why: string) => Promise<ReloadReport>,
  log: Logger,
): { stop(): void } {
  const file = resolve(path);
  const name = basename(file);
  let seen = '';
  let timer: NodeJS.Timeout | undefined;
  const signature = async (): Promise<string> => {
    try {
      const s = await stat(file);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return 'missing';
    }
  };
  void signature().then((s) => {
    seen = s;
  });
  const check = async (): Promise<void> => {
    const now = await signature();
    if (now === seen) return;
    seen = now;
    // A file caught between its removal and its replacement is not a config: wait for the next event.
    if (now === 'missing') return;
    await reload('config file changed');
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), (_event, changed) => {
      // Some platforms give no name; a ConfigMap swaps a `..data` link: check the file either way.
      if (changed !== null && changed !== name && !changed.startsWith('..')) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        void check();
      }, WATCH_SETTLE_MS);
      timer.unref();
    });
    watcher.unref();
    watcher.on('error', (err) => log.warn({ err, path: file }, 'cannot watch the config file'));
  } catch (err) {
    log.warn({ err, path: file }, 'cannot watch the config file: SIGHUP still reloads it');
  }
  log.info({ path: file }, 'watching the config file: a change is reloaded');
  return {
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      watcher?.close();
    },
  };
}
