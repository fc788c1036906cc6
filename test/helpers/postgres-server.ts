/**
 * A throwaway Postgres (Debian's `postgresql`, which `.ci/run` installs) for the ledger's tests: a
 * cluster made by `initdb` in its own temporary folder, a server on 127.0.0.1 and a free port (its
 * Unix socket in that folder too), never the packaged cluster on 5432. Debian keeps `initdb` and
 * `postgres` off PATH (`pg_config --bindir` names the folder), and they refuse root: run as root,
 * they run as the `postgres` user (the folder is given to it). Every wait is bounded; `remove`
 * stops the server by pid (SIGINT: fast shutdown, then SIGKILL) and deletes the folder. Missing
 * binaries are an error, never a skip: the Postgres ledger must not pass by not running.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, spawnServer, type ServerProcess } from './server-process.js';
import { tempDir, type TempDir } from './temp-dir.js';

const INSTALL = "install Debian's postgresql: apt-get install --no-install-recommends postgresql";

export interface PostgresServerOptions {
  /**
   * fsync commits to disk. Default false: a test's server dies by a signal at worst (the page
   * cache keeps what it wrote), never by a power cut, so flushing buys nothing but time.
   */
  readonly fsync?: boolean;
  /** Bound on start-up until the server accepts a connection, ms. Default 30 000. */
  readonly readyTimeoutMs?: number;
}

export interface PostgresServer {
  readonly port: number;
  /** The folder holding the Unix socket (`.s.PGSQL.<port>`). */
  readonly socketDir: string;
  /** The postmaster's pid (changes on `restart`). */
  readonly pid: number;
  /** A URL for `database` (default `postgres`), as the superuser `postgres`, no password. */
  url(database?: string): string;
  /** A fresh database; its URL. */
  createDatabase(name: string): Promise<string>;
  /** A fresh schema in the `postgres` database; a URL whose connections use it (search_path). */
  createSchema(name: string): Promise<string>;
  /** One statement as the superuser, on `database` (default `postgres`). */
  sql(text: string, database?: string): Promise<pg.QueryResult>;
  /**
   * Stop the server, keeping its data: connections to it fail until `start`. `fast` (SIGINT) ends
   * the sessions and checkpoints; `immediate` (SIGQUIT) is a crash: nothing is flushed, and the
   * next start replays the WAL.
   */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Start it again on the same port and data. */
  start(): Promise<void>;
  /** Stop it and delete its folder. */
  remove(): Promise<void>;
}

interface Account {
  readonly uid: number;
  readonly gid: number;
}

/** The `postgres` account when we are root (initdb and postgres refuse root), else ourselves. */
function account(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(`running as root, and no postgres user to run Postgres as: ${INSTALL}`);
  }
}

function binDir(): string {
  let dir: string;
  try {
    dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`pg_config not found: ${INSTALL}`);
  }
  for (const bin of ['initdb', 'postgres']) {
    if (!existsSync(join(dir, bin))) throw new Error(`no ${bin} in ${dir}: ${INSTALL}`);
  }
  return dir;
}

export async function startPostgres(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = binDir();
  const as = account();
  const dir: TempDir = tempDir('x402-pg-');
  const data = join(dir.path, 'data');
  const socketDir = dir.path;
  if (as !== undefined) chownSync(dir.path, as.uid, as.gid);
  const runAs = as === undefined ? {} : { uid: as.uid, gid: as.gid };
  try {
    mkdirSync(data, { mode: 0o700 });
    if (as !== undefined) chownSync(data, as.uid, as.gid);
    execFileSync(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      { ...runAs, cwd: dir.path, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 },
    );
  } catch (err) {
    dir.remove();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString();
    throw new Error(`initdb failed: ${stderr ?? String(err)}`);
  }

  const port = await freePort();
  let server: ServerProcess | undefined;

  async function start(): Promise<void> {
    const proc = spawnServer(
      'postgres',
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        socketDir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `fsync=${options.fsync === true ? 'on' : 'off'}`,
        '-c',
        'max_connections=200',
        '-c',
        'shared_buffers=32MB',
      ],
      { ...runAs, cwd: dir.path },
    );
    server = proc;
    // A test process that exits without `remove` (a failed hook, a killed run) ends its server
    // too (an immediate shutdown, sent synchronously on the way out) and leaves no folder.
    const orphan = (): void => {
      proc.child.kill('SIGQUIT');
      rmSync(dir.path, { recursive: true, force: true });
    };
    process.once('exit', orphan);
    proc.child.once('exit', () => process.removeListener('exit', orphan));
    await proc.waitReady(
      async () => {
        const client = new pg.Client({ connectionString: url('postgres') });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.end();
          return true;
        } catch (err) {
          await client.end().catch(() => undefined);
          throw err;
        }
      },
      {
        timeoutMs: options.readyTimeoutMs ?? 30_000,
        pollMs: 50,
        notReady: `did not accept connections on port ${port}`,
      },
    );
  }

  async function stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    const proc = server;
    server = undefined;
    await proc?.stop(mode === 'fast' ? 'SIGINT' : 'SIGQUIT', 10_000);
  }

  function url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${port}/${database}`;
  }

  async function sql(text: string, database = 'postgres'): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: url(database) });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  try {
    // No database of its own: CREATE DATABASE copies and (fsync on) flushes a whole template.
    await start();
  } catch (err) {
    await stop();
    dir.remove();
    throw err;
  }

  return {
    port,
    socketDir,
    get pid() {
      return server?.child.pid ?? 0;
    },
    url,
    async createDatabase(name) {
      await sql(`CREATE DATABASE "${name}"`, 'postgres');
      return url(name);
    },
    async createSchema(name) {
      await sql(`CREATE SCHEMA "${name}"`);
      return `${url('postgres')}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
    },
    sql,
    stop,
    start,
    async remove() {
      await stop('immediate'); // its data is deleted: nothing to checkpoint
      rmSync(dir.path, { recursive: true, force: true });
    },
  };
}
