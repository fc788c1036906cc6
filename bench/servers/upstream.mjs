// Small JSON upstream for the benchmarks: node:http, keep-alive, one pre-serialised body for every path.
// Usage: node upstream.mjs <port>   (loopback only). Prints "ready <port>" once listening.
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
const body = Buffer.from(
  JSON.stringify({ ok: true, item: { id: 42, name: 'widget', price: 1.25 } }),
);
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };

const server = http.createServer((req, res) => {
  // Drain any request body so the connection stays reusable.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, headers);
    res.end(body);
  });
});
// Proxies keep pooled connections to us; don't be the side that closes them mid-run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
