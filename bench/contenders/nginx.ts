/**
 * Baseline: nginx reverse proxy, 1 worker, keep-alive upstream pool, no access log.
 * Skipped with a message when the binary is missing and cannot be installed (Debian: nginx-light).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, startProcess, waitReady } from '../proc.js';
import { trialStart } from './node-server.js';
import type { Contender, Harness, Sut } from './types.js';

let installTried = false;

function present(bin: string): boolean {
  return spawnSync(bin, ['-v'], { stdio: 'ignore', timeout: 5_000 }).status === 0;
}

/** apt-get install once, only as root and when BENCH_INSTALL_NGINX is not 0. */
function tryInstall(bin: string): void {
  if (installTried || process.env.BENCH_INSTALL_NGINX === '0' || process.getuid?.() !== 0) return;
  installTried = true;
  if (spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status !== 0) return;
  console.log(
    '[bench] nginx not found: apt-get update && apt-get install -y nginx-light (or nginx)…',
  );
  const opts = {
    stdio: 'ignore' as const,
    timeout: 300_000,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  };
  spawnSync('apt-get', ['update'], opts);
  if (spawnSync('apt-get', ['install', '-y', 'nginx-light'], opts).status !== 0) {
    spawnSync('apt-get', ['install', '-y', 'nginx'], opts);
  }
  if (!present(bin)) console.log('[bench] nginx install failed');
}

function config(dir: string, port: number, upstreamPort: number): string {
  const t = (n: string) => path.join(dir, n);
  return `worker_processes 1;
daemon off;
pid ${t('nginx.pid')};
error_log stderr warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${t('body')};
  proxy_temp_path ${t('proxy')};
  fastcgi_temp_path ${t('fastcgi')};
  uwsgi_temp_path ${t('uwsgi')};
  scgi_temp_path ${t('scgi')};
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 256;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }
  }
}
`;
}

async function start(h: Harness): Promise<Sut> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(h.tmp, 'nginx-'));
  fs.writeFileSync(path.join(dir, 'nginx.conf'), config(dir, port, h.upstreamPort));
  const m = startProcess(
    'nginx',
    h.env.nginxBin,
    ['-p', dir, '-e', 'stderr', '-c', path.join(dir, 'nginx.conf')],
    { cpu: h.sutCpu },
  );
  try {
    await waitReady(m, port, '/free', 15_000);
  } catch (e) {
    await m.stop();
    throw e;
  }
  return { port, pid: m.pid, output: () => m.output(), stop: () => m.stop() };
}

export const nginx: Contender = {
  name: 'nginx',
  defaults: ['free'],
  supports: ['free'],
  async prepare(h) {
    if (!present(h.env.nginxBin)) tryInstall(h.env.nginxBin);
    if (!present(h.env.nginxBin)) {
      return `nginx not available (${h.env.nginxBin} -v failed; install Debian package nginx-light or nginx, or set BENCH_NGINX)`;
    }
    return trialStart(() => start(h));
  },
  start,
};
