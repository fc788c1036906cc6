// Baseline contender: a bare passthrough on an undici Pool (dispatch API), the forwarding library
// the gateway uses: what our routing, metrics, logging and header handling cost is the gateway's
// free row against this one. No features: hop-by-hop headers dropped, backpressure kept, nothing
// else. Usage: node undici-proxy.mjs <port> <upstreamUrl>. Loopback only.
import http from 'node:http';
import { Pool } from 'undici';

const port = Number(process.argv[2] ?? 0);
const target = new URL(process.argv[3] ?? 'http://127.0.0.1:1');
const pool = new Pool(target.origin, { connections: 512, headersTimeout: 0, bodyTimeout: 0 });
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
]);

function strip(headers) {
  const out = {};
  for (const name in headers) if (!HOP.has(name)) out[name] = headers[name];
  return out;
}

class Exchange {
  constructor(res) {
    this.res = res;
    this.controller = undefined;
    this.resume = () => this.controller?.resume();
  }
  onRequestStart(controller) {
    this.controller = controller;
  }
  onResponseStart(_c, status, headers) {
    if (status >= 200) this.res.writeHead(status, strip(headers));
  }
  onResponseData(controller, chunk) {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', this.resume);
    }
  }
  onResponseEnd() {
    this.res.end();
  }
  onResponseError() {
    if (this.res.headersSent) this.res.destroy();
    else {
      this.res.writeHead(502, { 'content-type': 'application/json' });
      this.res.end('{"error":"bad_gateway"}');
    }
  }
}

const server = http.createServer((req, res) => {
  const headers = strip(req.headers);
  headers.host = target.host;
  const hasBody =
    req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool.dispatch(
    { method: req.method, path: req.url, headers, body: hasBody ? req : null },
    new Exchange(res),
  );
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
