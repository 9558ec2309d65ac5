/**
 * What every endpoint takes, derived from the app itself: the operations, path
 * parameters, query parameters and JSON body fields (types, required, lengths, bounds,
 * enums) of the served OpenAPI document (GET /api/docs/json), plus the routes the router
 * serves that the document hides (the WebSocket upgrade). A new endpoint becomes a fuzz
 * target by itself, its schema driving the mutations. Two things the document cannot say
 * are added here: limits the services enforce beyond the schema (SERVICE_RULES), and the
 * fuzz world's facts — a valid request, whether it can succeed, how to undo a success
 * (the `Fixture`s of world.ts).
 */
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../../src/server/config.js';
import { LIMITS } from '../../../src/shared/protocol.js';
import { apiRoutes, routeKey } from '../security-harness.js';
import type { FieldType, QueryField } from './mutations.js';

export interface Field {
  name: string;
  type: FieldType;
  required: boolean;
  /** Length limits of strings (after trimming where the server trims) and bounds of integers. */
  min?: number;
  max?: number;
  /** The server trims it before checking the length (so blank text is too short). */
  trimmed?: boolean;
  /** A name or address people see and compare: control and format characters are refused. */
  identifier?: boolean;
}

/** The world's facts about one endpoint (world.ts); everything else comes from the app. */
export interface Fixture {
  /** No sign-in needed (the default is a signed-in fuzzer). */
  public?: boolean;
  /** Valid values of path parameters (the default: an id nobody has, so the request is refused). */
  params?: Record<string, () => string>;
  /** A valid body (fresh values each call); the default is built from the schema. */
  validBody?(): Record<string, unknown>;
  /** The unmutated request is refused anyway (wrong password, unknown id): every case must be refused. */
  alwaysRefused?: boolean;
  /** Undoes a success that would spoil later cases (the fuzzer logged out, left its room…). */
  repair?(): Promise<void>;
  /** Query strings refused by a rule across parameters (e.g. both `before` and `after`). */
  refusedQueries?: string[];
  /** A valid query string (a required parameter): every case sends it, less the parameters the case itself sets. */
  validQuery?(): Record<string, string>;
  /** Extra headers every case sends (the WebSocket route's Origin). */
  headers?: Record<string, string>;
}

export interface Endpoint extends Fixture {
  key: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path template: `:name` segments are filled from `params`. */
  path: string;
  /** Path parameters with their length limit. */
  pathParams: Array<{ name: string; max: number }>;
  query: QueryField[];
  /** JSON body fields; 'none' for endpoints that read no body. */
  body: Field[] | 'none';
  /** No field is required: `{}` may be omitted, and a non-object is still refused. */
  bodyOptional?: boolean;
  auth: 'public' | 'user';
}

const defaults = loadConfig({ LOG_LEVEL: 'silent' });

/** Limits the services enforce beyond the OpenAPI schema (see api.md), by route and field: from the same constants. */
const SERVICE_RULES: Record<string, Record<string, Partial<Field>>> = {
  'POST /api/v1/auth/register': {
    username: { min: LIMITS.usernameMin, max: LIMITS.usernameMax, trimmed: true, identifier: true },
    email: { max: LIMITS.emailMax, identifier: true },
    password: { min: defaults.passwordMinLength, max: LIMITS.passwordMax },
  },
  'POST /api/v1/auth/password': { newPassword: { min: defaults.passwordMinLength, max: LIMITS.passwordMax } },
  'POST /api/v1/rooms': {
    name: { min: LIMITS.roomNameMin, max: LIMITS.roomNameMax, trimmed: true, identifier: true },
    description: { max: LIMITS.roomDescriptionMax },
  },
  'POST /api/v1/rooms/join': { name: { identifier: true } },
  'POST /api/v1/rooms/:roomId/messages': { body: { min: 1, max: defaults.messageMaxLength, trimmed: true } },
  'PATCH /api/v1/rooms/:roomId/messages/:seq': { body: { min: 1, max: defaults.messageMaxLength, trimmed: true } },
};

interface Schema {
  type?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  enum?: unknown[];
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
}
interface Operation {
  parameters?: Array<{ in: string; name: string; required?: boolean; schema: Schema }>;
  requestBody?: { content?: Record<string, { schema: Schema }> };
}

/** A field's type and bounds from its schema (an enum of strings: the lengths of its values). */
function fieldOf(name: string, schema: Schema, required: boolean): Field {
  const options = schema.anyOf ?? [schema];
  const values = options.flatMap((option) => option.enum ?? []).map(String);
  const type = (options[0]?.type ?? 'string') as FieldType;
  const field: Field = { name, type, required };
  const min = values.length > 0 ? Math.min(...values.map((v) => v.length)) : (schema.minLength ?? schema.minimum);
  const max = values.length > 0 ? Math.max(...values.map((v) => v.length)) : (schema.maxLength ?? schema.maximum);
  if (min !== undefined) field.min = min;
  if (max !== undefined) field.max = max;
  return field;
}

/** A body with every required field valid by its schema. */
function bodyFromSchema(fields: Field[]): Record<string, unknown> {
  const valid = (f: Field) => (f.type === 'integer' ? (f.min ?? 0) : f.type === 'boolean' ? false : 'x'.repeat(Math.max(f.min ?? 1, 1)));
  return Object.fromEntries(fields.filter((f) => f.required).map((f) => [f.name, valid(f)]));
}

/** The served OpenAPI document's operations (router notation), as fuzz targets. */
export async function fuzzTargets(app: FastifyInstance, fixtures: Record<string, Fixture>): Promise<Endpoint[]> {
  const response = await app.inject({ method: 'GET', url: '/api/docs/json' });
  const paths = (response.json() as { paths: Record<string, Record<string, Operation>> }).paths;
  const endpoints: Endpoint[] = [];
  for (const [documentedPath, operations] of Object.entries(paths)) {
    const path = documentedPath.replace(/\{(\w+)\}/g, ':$1');
    if (!path.startsWith('/api/')) continue;
    for (const [verb, operation] of Object.entries(operations)) {
      const method = verb.toUpperCase() as Endpoint['method'];
      const key = `${method} ${path}`;
      const parameters = operation.parameters ?? [];
      const schema = operation.requestBody?.content?.['application/json']?.schema;
      const rules = SERVICE_RULES[key] ?? {};
      const body = schema
        ? Object.entries(schema.properties ?? {}).map(([name, property]) => ({
            ...fieldOf(name, property, (schema.required ?? []).includes(name)),
            ...rules[name],
          }))
        : 'none';
      const fixture = fixtures[key] ?? {};
      endpoints.push({
        ...fixture,
        key,
        method,
        path,
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => ({ name: p.name, max: p.schema.maxLength ?? 64 })),
        query: parameters.filter((p) => p.in === 'query').map((p) => ({ ...fieldOf(p.name, p.schema, false) })),
        body,
        bodyOptional: body !== 'none' && body.every((f) => !f.required),
        auth: fixture.public ? 'public' : 'user',
        validBody: fixture.validBody ?? (body === 'none' ? undefined : () => bodyFromSchema(body)),
      });
    }
  }
  // Routes the router serves but the document hides: no schema, a signed-in caller.
  const documented = new Set(endpoints.map((e) => e.key));
  for (const route of apiRoutes(app).filter((r) => r.method !== 'HEAD' && !documented.has(routeKey(r)))) {
    const key = routeKey(route);
    const fixture = fixtures[key] ?? {};
    endpoints.push({ ...fixture, key, method: route.method as Endpoint['method'], path: route.path, pathParams: [], query: [], body: 'none', auth: fixture.public ? 'public' : 'user' });
  }
  return endpoints;
}
