// Reference contender (x402 v1): Express + official x402-express@1.2.0 guarding GET /paid,
// which forwards to the upstream. GET /free is forwarded unpriced. Priced on base-sepolia USDC.
// Usage: node ref-v1.mjs <port> <upstreamUrl> <facilitatorUrl> <payTo>
import express from 'express';
import { paymentMiddleware } from 'x402-express';
import { args, forwarder, listen } from './forward.mjs';

const { port, upstream, facilitator, payTo } = args();
const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(
  paymentMiddleware(
    payTo,
    { 'GET /paid': { price: '$0.001', network: 'base-sepolia' } },
    { url: facilitator },
  ),
);
const forward = forwarder(upstream);
app.get('/paid', forward);
app.get('/free', forward);
listen(app, port);
