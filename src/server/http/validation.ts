/**
 * Request validation with two Ajv instances: bodies are JSON and must already have
 * the right types (no silent coercion of `123` into `"123"`), while query strings and
 * path parameters are text by nature and are coerced to the schema's types.
 */
import { Ajv, type Options } from 'ajv';
import * as ajvFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

// ajv-formats is CommonJS: under ESM its function arrives as the default export.
const addFormats = (ajvFormats as unknown as { default: (ajv: Ajv) => Ajv }).default;

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, removeAdditional: false, useDefaults: true, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const bodyAjv = createAjv({ coerceTypes: false });
  const textAjv = createAjv({ coerceTypes: 'array' });
  return ({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object);
}
