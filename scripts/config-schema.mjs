// `npm run schema`: write config/gateway.schema.json from the config's zod schemas
// (src/config/json-schema.ts). test/unit/config/json-schema.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchemaText } from '../src/config/json-schema.ts';

const target = fileURLToPath(new URL(`../${CONFIG_JSON_SCHEMA_PATH}`, import.meta.url));
writeFileSync(target, configJsonSchemaText());
console.log(`wrote ${CONFIG_JSON_SCHEMA_PATH}`);
