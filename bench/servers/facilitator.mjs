// Facilitator stub for the benchmarks: answers /verify, /settle and /supported with valid x402 shapes
// after a configurable delay, and counts the nonces it sees (to prove every paid request carried a
// new authorization). Usage: node facilitator.mjs <port> [latencyMs]. Loopback only.
//   POST /__reset?latencyMs=N  -> clears counters, sets the delay (ms) for verify and settle
//   GET  /__stats              -> {latencyMs, verify, settle, distinctVerifyNonces, duplicateVerifyNonces, ...}
import http from 'node:http';

const port = Number(process.argv[2] ?? 0);
let latencyMs = Number(process.argv[3] ?? 0);
const SIGNER = '0x3333333333333333333333333333333333333333';
const MAX_BODY = 64 * 1024;

let stats;
let verifyNonces;
let settleNonces;
function reset() {
  stats = {
    verify: 0,
    settle: 0,
    supported: 0,
    duplicateVerifyNonces: 0,
    duplicateSettleNonces: 0,
    malformed: 0,
  };
  verifyNonces = new Set();
  settleNonces = new Set();
}
reset();

const supported = JSON.stringify({
  kinds: [
    { x402Version: 1, scheme: 'exact', network: 'base-sepolia' },
    { x402Version: 2, scheme: 'exact', network: 'eip155:84532' },
  ],
  extensions: [],
  signers: { 'eip155:*': [SIGNER] },
});

function send(res, status, text) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function later(fn) {
  if (latencyMs > 0) setTimeout(fn, latencyMs);
  else fn();
}

/** Pulls payer, nonce and network out of a verify/settle body; null when the shape is wrong. */
function parse(raw) {
  try {
    const msg = JSON.parse(raw);
    const auth = msg?.paymentPayload?.payload?.authorization;
    const network =
      msg?.paymentRequirements?.network ??
      msg?.paymentPayload?.accepted?.network ??
      msg?.paymentPayload?.network;
    if (
      typeof auth?.nonce !== 'string' ||
      !/^0x[0-9a-fA-F]{64}$/.test(auth.nonce) ||
      typeof auth.from !== 'string'
    )
      return null;
    return { payer: auth.from, nonce: auth.nonce.toLowerCase(), network: String(network ?? '') };
  } catch {
    return null;
  }
}

function track(set, nonce, dupKey) {
  // Keep 20 hex chars per nonce: 80 random bits is plenty to count distinct values, and memory stays small.
  const key = nonce.slice(2, 22);
  if (set.has(key)) stats[dupKey]++;
  else set.add(key);
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url.startsWith('/supported')) {
    stats.supported++;
    req.resume();
    return send(res, 200, supported);
  }
  if (req.method === 'GET' && url.startsWith('/__stats')) {
    req.resume();
    return send(
      res,
      200,
      JSON.stringify({
        latencyMs,
        ...stats,
        distinctVerifyNonces: verifyNonces.size,
        distinctSettleNonces: settleNonces.size,
      }),
    );
  }
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on('end', () => {
    if (req.method === 'POST' && url.startsWith('/__reset')) {
      const q = new URL(url, 'http://x').searchParams.get('latencyMs');
      if (q !== null && Number.isFinite(Number(q))) latencyMs = Number(q);
      reset();
      return send(res, 200, JSON.stringify({ latencyMs }));
    }
    const isVerify = req.method === 'POST' && url.startsWith('/verify');
    const isSettle = req.method === 'POST' && url.startsWith('/settle');
    if (!isVerify && !isSettle) return send(res, 404, '{"error":"not found"}');
    const p = size <= MAX_BODY ? parse(Buffer.concat(chunks).toString('utf8')) : null;
    if (!p) {
      stats.malformed++;
      return send(
        res,
        400,
        JSON.stringify(
          isVerify
            ? { isValid: false, invalidReason: 'invalid_payload' }
            : { success: false, errorReason: 'invalid_payload', transaction: '', network: '' },
        ),
      );
    }
    if (isVerify) {
      stats.verify++;
      track(verifyNonces, p.nonce, 'duplicateVerifyNonces');
      later(() => send(res, 200, JSON.stringify({ isValid: true, payer: p.payer })));
    } else {
      stats.settle++;
      track(settleNonces, p.nonce, 'duplicateSettleNonces');
      // A 0x+64hex "transaction hash": the nonce itself has the right shape and costs nothing.
      later(() =>
        send(
          res,
          200,
          JSON.stringify({
            success: true,
            transaction: p.nonce,
            network: p.network,
            payer: p.payer,
          }),
        ),
      );
    }
  });
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
