// Express handler that forwards the request to the benchmark upstream over a keep-alive agent.
// Shared by the two reference servers, so both do the same proxying work as the gateway.
import http from 'node:http';

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** @param {string} upstream base URL, e.g. http://127.0.0.1:9000 */
export function forwarder(upstream) {
  const base = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 512 });
  return function forward(req, res) {
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (!HOP.has(k) && k !== 'x-payment' && k !== 'payment-signature') headers[k] = v;
    }
    headers.host = base.host;
    const out = http.request(
      { host: base.hostname, port: base.port, method: req.method, path: req.originalUrl, headers, agent },
      (up) => {
        const h = {};
        for (const [k, v] of Object.entries(up.headers)) if (!HOP.has(k) && v !== undefined) h[k] = v;
        res.writeHead(up.statusCode ?? 502, h);
        up.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.status(502).json({ error: 'bad_gateway' });
      else res.destroy();
    });
    req.pipe(out);
  };
}

/** Common argv: <port> <upstreamUrl> <facilitatorUrl> <payTo> */
export function args() {
  const [port, upstream, facilitator, payTo] = process.argv.slice(2);
  if (!port || !upstream || !facilitator || !payTo) {
    console.error('usage: node ref-vN.mjs <port> <upstreamUrl> <facilitatorUrl> <payTo>');
    process.exit(2);
  }
  return { port: Number(port), upstream, facilitator, payTo };
}

export function listen(app, port) {
  const server = app.listen(port, '127.0.0.1', () => {
    process.stdout.write(`ready ${server.address().port}\n`);
  });
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
  return server;
}
