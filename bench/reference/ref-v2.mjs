// Reference contender (x402 v2): Express + official @x402/express@2.27.0 (+ @x402/core, @x402/evm
// exact scheme) guarding GET /paid, which forwards to the upstream. GET /free is forwarded unpriced.
// Priced on Base Sepolia (eip155:84532) USDC; the SDK's default asset there is
// 0x036CbD53842c5426634e7929541eC2318f3dCF7e with extra {name:"USDC", version:"2"}.
// Usage: node ref-v2.mjs <port> <upstreamUrl> <facilitatorUrl> <payTo>
import express from 'express';
import { paymentMiddleware, x402ResourceServer } from '@x402/express';
import { HTTPFacilitatorClient } from '@x402/core/server';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { args, forwarder, listen } from './forward.mjs';

const { port, upstream, facilitator, payTo } = args();
const resourceServer = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitator })).register(
  'eip155:84532',
  new ExactEvmScheme(),
);
const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.use(
  paymentMiddleware(
    {
      'GET /paid': {
        accepts: { scheme: 'exact', price: '$0.001', network: 'eip155:84532', payTo },
        description: 'benchmark paid route',
        mimeType: 'application/json',
      },
    },
    resourceServer,
  ),
);
const forward = forwarder(upstream);
app.get('/paid', forward);
app.get('/free', forward);
listen(app, port);
