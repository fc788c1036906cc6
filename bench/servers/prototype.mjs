// Bare-bones paying proxy "of our design" with no features (the "minimal prototype"): the
// floor the gateway is compared with. node:http + http-proxy + an undici facilitator client; GET
// /paid costs AMOUNT (v1 X-PAYMENT or v2 PAYMENT-SIGNATURE): decode, verify, forward, settle when the
// upstream's 2xx headers arrive, then stream the body with the settlement header. Anything else is
// passed through. No replay guard, cache, limits, metrics, logs, deadlines or validation beyond the
// shape the facilitator needs: never deploy this.
// Usage: node prototype.mjs <port> <upstreamUrl> <facilitatorUrl> <payTo> <asset> <amount>. Loopback only.
import http from 'node:http';
import httpProxy from 'http-proxy';
import { Pool } from 'undici';

const [port, upstream, facilitatorUrl, payTo, asset, amount] = process.argv.slice(2);
const PAID = '/paid';
const extra = { name: 'USDC', version: '2' };
const v2Req = {
  scheme: 'exact',
  network: 'eip155:84532',
  amount,
  asset,
  payTo,
  maxTimeoutSeconds: 60,
  extra,
};
const v1Req = {
  scheme: 'exact',
  network: 'base-sepolia',
  maxAmountRequired: amount,
  resource: `http://127.0.0.1:${port}${PAID}`,
  description: '',
  mimeType: 'application/json',
  payTo,
  maxTimeoutSeconds: 60,
  asset,
  extra,
};
const challengeHeader = Buffer.from(
  JSON.stringify({
    x402Version: 2,
    error: 'Payment required',
    resource: { url: `http://127.0.0.1:${port}${PAID}` },
    accepts: [v2Req],
  }),
).toString('base64');
const challengeBody = JSON.stringify({
  x402Version: 1,
  error: 'X-PAYMENT header is required',
  accepts: [v1Req],
});

const agent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 512 });
const proxy = httpProxy.createProxyServer({ target: upstream, agent, xfwd: false });
const facilitator = new Pool(facilitatorUrl, { connections: 256 });
const POST = { 'content-type': 'application/json' };

function call(path, body, done) {
  const chunks = [];
  facilitator.dispatch(
    { method: 'POST', path, headers: POST, body },
    {
      onRequestStart() {},
      onResponseStart() {},
      onResponseData(_c, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        done(null, JSON.parse(Buffer.concat(chunks).toString('utf8')));
      },
      onResponseError(_c, err) {
        done(err);
      },
    },
  );
}

function reply(res, status, headers, body) {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

proxy.on('error', (_err, _req, res) => {
  if (res && 'writeHead' in res && !res.headersSent)
    reply(res, 502, POST, '{"error":"bad_gateway"}');
  else if (res) res.destroy();
});

// Paid responses are handled here: settle on 2xx headers, then pipe the body.
proxy.on('proxyRes', (up, req, res) => {
  const settle = req.settleBody;
  if (settle === undefined) return; // free route: http-proxy pipes it itself (selfHandleResponse off)
  if (up.statusCode < 200 || up.statusCode >= 300) {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
    return;
  }
  call('/settle', settle, (err, s) => {
    if (err || !s.success) {
      up.resume();
      return reply(res, 402, POST, '{"error":"settlement_failed"}');
    }
    res.writeHead(up.statusCode, {
      ...up.headers,
      [req.v2 ? 'payment-response' : 'x-payment-response']: Buffer.from(JSON.stringify(s)).toString(
        'base64',
      ),
    });
    up.pipe(res);
  });
});

const server = http.createServer((req, res) => {
  if (req.url !== PAID) return proxy.web(req, res);
  const v2Header = req.headers['payment-signature'];
  const header = v2Header ?? req.headers['x-payment'];
  if (typeof header !== 'string')
    return reply(res, 402, { ...POST, 'payment-required': challengeHeader }, challengeBody);
  let payload;
  try {
    payload = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return reply(res, 400, POST, '{"error":"invalid_payload"}');
  }
  const body = JSON.stringify({
    x402Version: payload.x402Version,
    paymentPayload: payload,
    paymentRequirements: v2Header ? v2Req : v1Req,
  });
  call('/verify', body, (err, v) => {
    if (err || !v.isValid) return reply(res, 402, POST, '{"error":"invalid_payment"}');
    req.settleBody = body;
    req.v2 = v2Header !== undefined;
    proxy.web(req, res, { selfHandleResponse: true });
  });
});
server.keepAliveTimeout = 120_000;
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
