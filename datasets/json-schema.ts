import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';

// ajv and ajv-formats are CommonJS whose typings claim an ES default export; require them as
// they are so the same code runs from source (vitest) and from dist.
const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js').default;
const addFormats = require('ajv-formats') as typeof import('ajv-formats').default;

const ajv = new Ajv2020({ allErrors: false, strict: true });
addFormats(ajv);

/** Compiles a JSON Schema (draft 2020-12); compiled validators are cached by schema identity. */
export function compileJsonSchema(schema: object): ValidateFunction {
  return ajv.compile(schema);
}

/** The offending field of an ajv error as a dotted path, e.g. `input.bids[2].priceCents`. */
export function ajvErrorField(err: ErrorObject): string {
  const parts = err.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (err.keyword === 'required') parts.push(String((err.params as { missingProperty: string }).missingProperty));
  if (err.keyword === 'additionalProperties') parts.push(String((err.params as { additionalProperty: string }).additionalProperty));
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}
