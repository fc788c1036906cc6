// Node's own cluster hand-off, for comparison with the gateway's primary (bench/micro/primary-accept.ts):
// a node:cluster primary with N workers, each a bare node:http server answering "ok".
// Usage: node cluster-hello.mjs <port> [workers=2]. Loopback only. Prints "ready <port>" once
// every worker listens.
import cluster from 'node:cluster';
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const workers = Number(process.argv[3] ?? 2);

if (cluster.isPrimary) {
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) process.stdout.write(`ready ${port}\n`);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  for (const sig of ['SIGTERM', 'SIGINT'])
    process.on(sig, () => {
      for (const w of Object.values(cluster.workers ?? {})) w?.kill();
      process.exit(0);
    });
} else {
  http.createServer((_req, res) => res.end('ok')).listen(port, '127.0.0.1');
}
