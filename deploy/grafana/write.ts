/** `npm run dashboard`: write deploy/grafana/x402-gateway.json from dashboard.ts. */
import { writeFileSync } from 'node:fs';
import { dashboardJson } from './dashboard.js';

const target = new URL('./x402-gateway.json', import.meta.url);
writeFileSync(target, dashboardJson());
process.stdout.write(`wrote ${target.pathname}\n`);
