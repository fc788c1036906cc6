import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_JSON_SCHEMA_PATH,
  configJsonSchema,
  configJsonSchemaText,
} from '../../../src/config/json-schema.js';
import {
  configFileSchema,
  REQUIRED_TOP_LEVEL_KEYS,
  TOP_LEVEL_KEYS,
} from '../../../src/config/schema.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/config');
const example = readFileSync(join(root, 'gateway.example.yaml'), 'utf8');

const yamlIn = (sub: string): string[] =>
  readdirSync(join(fixtures, sub))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
const fixture = (sub: string, file: string): unknown =>
  parse(readFileSync(join(fixtures, sub, file), 'utf8'));

/**
 * Invalid fixtures the JSON Schema refuses on its own: unknown keys, wrong types, enums, formats
 * (patterns) and ranges. The others need the loader (route keys, prices against decimals, checksums,
 * timeouts against each other, YAML-level problems) and are not checked here.
 */
const SCHEMA_DETECTABLE = [
  'bad-address.yaml', // pattern
  'bad-decimals.yaml', // range
  'bad-header-name.yaml', // propertyNames pattern
  'bad-settle-mode.yaml', // enum
  'bad-unpriced.yaml', // enum
  'bad-listen-port.yaml', // host:port pattern (port range)
  'bare-ipv6-listen.yaml', // host:port pattern
  'fractional-limit.yaml', // integer
  'local-and-url.yaml', // local and url together match neither kind
  'local-bad-key.yaml', // pattern
  'local-http-only-key.yaml', // local with an HTTP-only key matches neither kind
  'local-missing-rpc.yaml', // required
  'local-not-a-mapping.yaml', // type
  'local-unquoted-key.yaml', // type
  'missing-routes.yaml', // required
  'missing-upstream.yaml', // required
  'not-a-mapping.yaml', // type
  'route-null.yaml', // type
  'unknown-key.yaml', // unknown key
  'unknown-network.yaml', // enum
  'unknown-route-key.yaml', // unknown key
  'unknown-top-level-key.yaml', // unknown key
  'unquoted-address.yaml', // type
  'upstream-query.yaml', // pattern
  'upstream-scheme.yaml', // pattern
  'zero-address.yaml', // pattern
  'zero-timeout.yaml', // range
];

const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(
  configJsonSchema(),
);
const problems = (data: unknown): string =>
  validate(data) ? 'valid' : JSON.stringify(validate.errors?.slice(0, 5), null, 2);

describe('config JSON Schema', () => {
  it(`${CONFIG_JSON_SCHEMA_PATH} is current (npm run schema)`, () => {
    const committed = readFileSync(join(root, CONFIG_JSON_SCHEMA_PATH), 'utf8');
    expect(committed === configJsonSchemaText(), 'run `npm run schema` and commit it').toBe(true);
  });

  it('covers every top-level section and requires what the loader requires', () => {
    expect(Object.keys(configFileSchema.shape)).toEqual([...TOP_LEVEL_KEYS]);
    const schema = configJsonSchema();
    expect(Object.keys(schema.properties as object)).toEqual([...TOP_LEVEL_KEYS]);
    expect(schema.required).toEqual([...REQUIRED_TOP_LEVEL_KEYS]);
    expect(schema.additionalProperties).toBe(false);
  });

  it('is referenced by the first line of gateway.example.yaml', () => {
    expect(example.split('\n')[0]).toBe(
      `# yaml-language-server: $schema=./${CONFIG_JSON_SCHEMA_PATH}`,
    );
  });

  it('accepts gateway.example.yaml', () => {
    expect(problems(parse(example))).toBe('valid');
  });

  it.each(yamlIn('valid'))('accepts valid fixture %s', (file) => {
    expect(problems(fixture('valid', file))).toBe('valid');
  });

  it('lists only invalid fixtures that exist', () => {
    expect(SCHEMA_DETECTABLE.filter((f) => !yamlIn('invalid').includes(f))).toEqual([]);
  });

  it.each(SCHEMA_DETECTABLE)('rejects invalid fixture %s', (file) => {
    expect(validate(fixture('invalid', file))).toBe(false);
  });

  it('accepts a ${NAME} reference for every kind of scalar', () => {
    const config = {
      server: {
        listen: '${LISTEN}',
        trustProxy: '${TRUST_PROXY}',
        limits: { maxBodyBytes: '${MAX_BODY}', maxClientShare: '${SHARE}' },
      },
      facilitator: { url: 'https://${FACILITATOR_HOST}/x402', maxSockets: '${SOCKETS}' },
      payment: { network: '${NETWORK}', payTo: '${PAY_TO}' },
      upstream: '${UPSTREAM}',
      upstreamTimeoutMs: '${UPSTREAM_TIMEOUT}',
      unpriced: '${UNPRICED}',
      log: { level: '${LOG_LEVEL}' },
      rpcUrls: { base: '${BASE_RPC_URL}' },
      ledger: '${LEDGER}',
      routes: { 'GET /a': '${PRICE}', 'GET /b': { price: { amount: '${ATOMIC}' } } },
    };
    expect(problems(config)).toBe('valid');
  });

  it('refuses what is not a reference where a number is due', () => {
    expect(validate({ upstream: 'http://u', routes: {}, upstreamTimeoutMs: '5000' })).toBe(false);
    expect(validate({ upstream: 'http://u', routes: {}, upstreamTimeoutMs: '$PORT' })).toBe(false);
  });
});
