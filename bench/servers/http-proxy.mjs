// Baseline contender: plain node:http + http-proxy passthrough with a keep-alive upstream agent.
// Usage: node http-proxy.mjs <port> <upstreamUrl>. Loopback only.
import http from 'node:http';
import httpProxy from 'http-proxy';

const port = Number(process.argv[2] ?? 0);
const target = process.argv[3] ?? 'http://127.0.0.1:1';
const agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 512 });
const proxy = httpProxy.createProxyServer({ target, agent, xfwd: false });
proxy.on('error', (_err, _req, res) => {
  if (res && 'writeHead' in res && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":"bad_gateway"}');
  } else if (res) res.destroy();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
