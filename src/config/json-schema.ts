/**
 * The JSON Schema of the YAML config (config/gateway.schema.json), generated from the zod schemas
 * for editors (yaml-language-server) and CI linters. It is a first line only: it catches unknown
 * keys, wrong types, enums, formats and ranges; the loader stays the full check (route keys, prices
 * against the asset's decimals, timeouts against each other, checksums).
 *
 * Build-time only: nothing at run time imports this file (`npm run schema` writes the output and
 * test/unit/config/json-schema.test.ts checks that it is current).
 */
import { zodToJsonSchema, ignoreOverride } from 'zod-to-json-schema';
import type { ZodTypeDef } from 'zod';
import { NETWORKS } from '../chains/index.js';
import { address, hostPort, httpUrl, network } from './fields.js';
import { privateKey } from './facilitator.js';
import { configFileSchema } from './schema.js';

/** Where `npm run schema` writes the schema, relative to the repository root. */
export const CONFIG_JSON_SCHEMA_PATH = 'config/gateway.schema.json';

type Json = Record<string, unknown>;

/** A string holding at least one `${NAME}` reference (yaml-doc.ts `interpolate`). */
const ENV_REFERENCE: Json = {
  type: 'string',
  pattern: '\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}',
  description:
    'A ${NAME} environment variable reference, replaced before validation (an unquoted one ' +
    'that expands to a whole number or true/false takes that type).',
};
const ENV_REFERENCE_REF = '#/definitions/envReference';

/**
 * Fields whose zod schema is a transform of a plain string: their JSON form is the string's shape
 * (the transform's own checks stay with the loader).
 */
const FIELD_FORMS = new Map<ZodTypeDef, Json>([
  // Not the zero address.
  [address._def, { type: 'string', pattern: '^(?!0x0{40}$)0x[0-9a-fA-F]{40}$' }],
  [httpUrl._def, { type: 'string', pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^?#]+$' }],
  [
    hostPort._def,
    {
      type: 'string',
      // Port 0 to 65535, up to five digits.
      pattern:
        '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):' +
        '([0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$',
    },
  ],
  [network._def, { type: 'string', enum: NETWORKS.flatMap((n) => [n.v1Name, n.caip2]) }],
  // Its transform trims the text first.
  [privateKey._def, { type: 'string', pattern: '^\\s*0x[0-9a-fA-F]{64}\\s*$' }],
]);

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean']);

function isScalarLeaf(node: Json): boolean {
  const type = node.type;
  if (typeof type === 'string') return SCALAR_TYPES.has(type);
  return Array.isArray(type) && type.some((t) => SCALAR_TYPES.has(String(t)));
}

/**
 * Every scalar leaf also accepts a `${NAME}` reference. Mapping keys (propertyNames) are not
 * interpolated, so they are left alone.
 */
function allowEnvReferences(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(allowEnvReferences);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === 'propertyNames' || key === 'default' || key === 'enum' || key === 'const') {
      out[key] = value;
    } else if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Json).map(([k, v]) => [k, allowEnvReferences(v)]),
      );
    } else {
      out[key] = allowEnvReferences(value);
    }
  }
  if (Array.isArray(out.anyOf) && Object.keys(out).every((k) => k === 'anyOf' || k === 'default')) {
    out.anyOf = flattenAnyOf(out.anyOf);
  }
  if (!isScalarLeaf(out)) return out;
  // The default stays on the outside, where editors look for it.
  const { default: value, ...shape } = out;
  const wrapped: Json = { anyOf: [shape, { $ref: ENV_REFERENCE_REF }] };
  return value === undefined ? wrapped : { ...wrapped, default: value };
}

/** `anyOf: [{ anyOf: [a, ref] }, { anyOf: [b, ref] }]` → `anyOf: [a, b, ref]`: one level, once. */
function flattenAnyOf(members: unknown[]): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<string>();
  for (const member of members) {
    const m = member as Json;
    const inner = Object.keys(m).length === 1 && Array.isArray(m.anyOf) ? m.anyOf : [m];
    for (const item of inner) {
      const key = JSON.stringify(item);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(item);
    }
  }
  // The reference goes last, after the shapes it stands in for.
  const ref = JSON.stringify({ $ref: ENV_REFERENCE_REF });
  return [
    ...out.filter((m) => JSON.stringify(m) !== ref),
    ...out.filter((m) => JSON.stringify(m) === ref),
  ];
}

/** The JSON Schema (draft-07) of the config file. */
export function configJsonSchema(): Json {
  const generated = zodToJsonSchema(configFileSchema, {
    target: 'jsonSchema7',
    $refStrategy: 'none',
    effectStrategy: 'input',
    pipeStrategy: 'input',
    override: (def) => {
      const form = FIELD_FORMS.get(def);
      return form === undefined ? ignoreOverride : { ...form };
    },
  }) as Json;
  const { $schema, ...body } = generated;
  return {
    $schema,
    title: 'x402-gateway configuration',
    description:
      'Generated from src/config/schema.ts by `npm run schema`; do not edit. The loader ' +
      '(`x402-gateway validate`) remains the full check.',
    ...(allowEnvReferences(body) as Json),
    definitions: { envReference: ENV_REFERENCE },
  };
}

/** The file's text: two-space JSON with a final newline. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
