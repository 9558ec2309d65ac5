/**
 * Shared by the security suites (authorization matrix, fuzz): the app's own route list,
 * a fingerprint of every table, the API's error shape, and (re-exported) the seeded PRNG.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';

export interface RouteEntry {
  method: string;
  /** As registered, e.g. `/api/v1/rooms/:roomId/messages`. */
  path: string;
}

export const routeKey = (route: RouteEntry) => `${route.method} ${route.path}`;

/**
 * Every method + path the running app's router serves, read from `printRoutes()` (the
 * router itself, so routes hidden from the OpenAPI document are listed too). The tree
 * prints each node's text relative to its parent, four characters of indent per level.
 */
export function listRoutes(app: FastifyInstance): RouteEntry[] {
  const routes: RouteEntry[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (depth > 0 ? prefixes[depth - 1]! : '') + match[2]!;
    prefixes.length = depth;
    prefixes[depth] = path;
    for (const method of match[3]?.split(',') ?? []) routes.push({ method: method.trim(), path });
  }
  return routes;
}

/** The routes under the versioned API prefix. */
export function apiRoutes(app: FastifyInstance): RouteEntry[] {
  return listRoutes(app).filter((route) => route.path.startsWith('/api/v1/'));
}

/** The OpenAPI document's operations, in router notation (`{id}` → `:id`). */
export async function documentedRoutes(app: FastifyInstance): Promise<RouteEntry[]> {
  const response = await app.inject({ method: 'GET', url: '/api/docs/json' });
  const paths = (response.json() as { paths: Record<string, Record<string, unknown>> }).paths;
  return Object.entries(paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{(\w+)\}/g, ':$1') })),
  );
}

// ---- the database, fingerprinted ----

export type DatabaseSnapshot = Record<string, { rows: number; sha256: string }>;

const tableNames = new WeakMap<object, Promise<string[]>>();

/** Row count and a content hash of every table: equal snapshots mean nothing was written. */
export async function snapshotDatabase(db: Kysely<any>): Promise<DatabaseSnapshot> {
  let names = tableNames.get(db);
  if (!names) {
    names = db.introspection.getTables({ withInternalKyselyTables: true }).then((tables) => tables.map((table) => table.name).sort());
    tableNames.set(db, names);
  }
  const snapshot: DatabaseSnapshot = {};
  for (const name of await names) {
    const rows = await db.selectFrom(name).selectAll().execute();
    const lines = rows.map((row) => JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))).sort();
    snapshot[name] = { rows: rows.length, sha256: createHash('sha256').update(lines.join('\n')).digest('hex') };
  }
  return snapshot;
}

/** The tables whose rows differ between two snapshots, e.g. `messages (3 → 4 rows)`. */
export function changedTables(before: DatabaseSnapshot, after: DatabaseSnapshot): string[] {
  return Object.keys({ ...before, ...after })
    .filter((name) => before[name]?.sha256 !== after[name]?.sha256)
    .map((name) => `${name} (${before[name]?.rows ?? 0} → ${after[name]?.rows ?? 0} rows)`);
}

// ---- the error shape of api.md ----

const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/**
 * What is wrong with an error body, or undefined when it is exactly
 * `{"error": {"code": snake_case, "message": non-empty, "field"?: string}}`.
 */
export function errorBodyProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body is not a JSON object';
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'error') return `top-level keys are [${keys.join(', ')}], expected [error]`;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null || Array.isArray(error)) return '"error" is not an object';
  const extra = Object.keys(error).filter((key) => !['code', 'message', 'field'].includes(key));
  if (extra.length > 0) return `"error" has extra keys [${extra.join(', ')}]`;
  const { code, message, field } = error as { code?: unknown; message?: unknown; field?: unknown };
  if (typeof code !== 'string' || !SNAKE_CASE.test(code)) return `"code" is ${JSON.stringify(code)}, not a snake_case string`;
  if (typeof message !== 'string' || message.trim() === '') return `"message" is ${JSON.stringify(message)}, not a sentence`;
  if (field !== undefined && typeof field !== 'string') return `"field" is ${JSON.stringify(field)}, not a string`;
  return undefined;
}

/**
 * What is wrong with a refusal: a status outside 400–499, a non-JSON answer, a body not
 * in the error shape, a 429 without Retry-After. Undefined when it is a proper refusal.
 */
export function refusalProblem(response: LightMyRequestResponse, method = 'GET'): string | undefined {
  const status = response.statusCode;
  if (status < 400 || status > 499) return `status ${status}, expected 4xx`;
  if (status === 429 && !response.headers['retry-after']) return '429 without Retry-After';
  if (method === 'HEAD') return undefined;
  if (!String(response.headers['content-type'] ?? '').startsWith('application/json')) {
    return `content-type ${String(response.headers['content-type'])}, expected application/json`;
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return `the body is not JSON: ${response.body.slice(0, 200)}`;
  }
  return errorBodyProblem(body);
}

// The seeded PRNG lives in test/support/random.ts; the suites import it from here too.
export { createRandom, type Random } from '../support/random.js';
