/** All contenders by name, in the order they run. */
import { direct } from './direct.js';
import {
  gateway,
  gatewayBase,
  gatewayNoLedger,
  gatewayNoLedgerRedis,
  gatewayWorkers2,
  gatewayWorkers2Pinned,
} from './gateway.js';
import { nginx } from './nginx.js';
import { httpProxy, undiciProxy } from './passthrough.js';
import { prototype } from './prototype.js';
import { refV1, refV2 } from './reference.js';
import type { Contender } from './types.js';

export const CONTENDERS: Readonly<Record<string, Contender>> = {
  direct,
  'http-proxy': httpProxy,
  undici: undiciProxy,
  nginx,
  'ref-v1': refV1,
  'ref-v2': refV2,
  prototype,
  'gateway-base': gatewayBase,
  'gateway-noledger': gatewayNoLedger,
  'gateway-noledger-redis': gatewayNoLedgerRedis,
  'gateway-workers2': gatewayWorkers2,
  'gateway-workers2-pinned': gatewayWorkers2Pinned,
  gateway,
};
