/**
 * Bad input over HTTP (issue 4): thousands of generated malformed requests to every
 * endpoint (targets.ts: the served OpenAPI document and the router), from a seeded PRNG
 * (the seed is in the test name; the same seed replays the same run). The rules: never a
 * 5xx; every answer that is not a 2xx is a 4xx in exactly the error shape of api.md
 * (`{"error": {"code", "message", "field"?}}`, Retry-After on 429); and the database —
 * every table's row count and a hash of its contents — is unchanged by every refused
 * request. Cases that cannot be valid must be refused; the rest may succeed. All
 * violations are reported together, grouped, with one exact example request and answer each.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../support/databases.js';
import { apiRoutes, changedTables, createRandom, refusalProblem, routeKey, snapshotDatabase, type DatabaseSnapshot } from '../security-harness.js';
import { generate } from './cases.js';
import { as } from '../../support/app.js';
import { describeCase, oddQueries, refusedQueries, summarize, type Case, type Violation } from './mutations.js';
import { fuzzTargets, type Endpoint } from './targets.js';
import { useFuzzWorld } from './world.js';

const SEED = 0x5ec0c4a7;
const SEED_TEXT = `0x${SEED.toString(16)}`;
const REQUESTS = 3_000;
/** Refused requests between two fingerprints of the database. */
const BATCH = 25;

describe.each(DIALECTS)('fuzzing HTTP on %s', (dialect) => {
  const w = useFuzzWorld(dialect);
  let endpoints: Endpoint[];
  beforeAll(async () => {
    endpoints = await fuzzTargets(w.t.app, w.fixtures);
  });

it('has a fuzz target for every /api/v1 route the app serves', () => {
  const served = apiRoutes(w.t.app)
    .map(routeKey)
    .filter((key) => !key.startsWith('HEAD '));
  const targets = new Set(endpoints.map((e) => e.key));
  expect(served.filter((key) => !targets.has(key)).sort()).toEqual([]);
  expect([...targets].filter((key) => !served.includes(key)).sort()).toEqual([]);
});

it(
  `answers ${REQUESTS.toLocaleString('en')} generated malformed requests (seed ${SEED_TEXT}) with a 4xx in the error shape, never a 5xx, and changes nothing when it refuses`,
  async () => {
    const random = createRandom(SEED);
    const violations: Violation[] = [];
    const perEndpoint = new Map<string, number>();
    const statuses = new Map<number, number>();
    // The database is fingerprinted before and after each batch of refused requests
    // (at most BATCH, and always right before a request that may succeed, so a
    // success's own writes are never mixed with a batch).
    let checkpoint: DatabaseSnapshot = await snapshotDatabase(w.t.database.db);
    let batch: Case[] = [];
    const send = (c: Case) =>
      w.t.app.inject({ method: c.method as 'GET', url: c.url, headers: c.headers, ...(c.payload === undefined ? {} : { payload: c.payload }) });
    const flush = async () => {
      const now = await snapshotDatabase(w.t.database.db);
      const changed = changedTables(checkpoint, now);
      if (changed.length > 0) {
        // Replay the batch one request at a time to name the culprit(s).
        let found = false;
        for (const c of batch) {
          const before = await snapshotDatabase(w.t.database.db);
          const response = await send(c);
          const diff = changedTables(before, await snapshotDatabase(w.t.database.db));
          if (response.statusCode >= 300 && diff.length > 0) {
            found = true;
            violations.push({ group: `${c.endpoint} [${c.kind}]: refused (${response.statusCode}) but changed ${diff.map((d) => d.split(' ')[0]).join(', ')}`, example: `${describeCase(c, response)} — changed ${diff.join(', ')}` });
          }
        }
        if (!found) violations.push({ group: `refused requests changed ${changed.join(', ')}`, example: `one of: ${batch.map((c) => describeCase(c)).join(' | ')}` });
      }
      checkpoint = await snapshotDatabase(w.t.database.db);
      batch = [];
    };

    for (let i = 0; i < REQUESTS; i++) {
      const endpoint = endpoints[i % endpoints.length]!;
      const c = generate(endpoint, random, w);
      perEndpoint.set(endpoint.key, (perEndpoint.get(endpoint.key) ?? 0) + 1);
      if (!c.mustRefuse || batch.length >= BATCH) await flush();
      const response = await send(c);
      const status = response.statusCode;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 200 && status < 300) {
        if (c.mustRefuse) {
          const unverified = batch.length > 0 ? ` (the ${batch.length} refused requests before it are unverified)` : '';
          violations.push({ group: `${c.endpoint} [${c.kind}]: accepted (${status}) what must be refused`, example: describeCase(c, response) + unverified });
        }
        if (endpoint.repair) await endpoint.repair();
        checkpoint = await snapshotDatabase(w.t.database.db);
        batch = [];
        continue;
      }
      const problem = refusalProblem(response, c.method);
      if (problem) {
        const reason = status >= 500 ? `answered ${status}` : problem;
        violations.push({ group: `${c.endpoint} [${c.kind}]: ${reason}`, example: describeCase(c, response) });
      }
      batch.push(c);
    }
    await flush();

    // Nothing reached the rooms the w.fuzzer is not in, whatever the ids or extra fields said.
    const intruded = await w.t.database.db
      .selectFrom('room_members')
      .select(['room_id'])
      .where('user_id', '=', w.fuzzer.user.id)
      .where('room_id', 'in', [w.othersPrivate.id])
      .execute();
    if (intruded.length > 0) violations.push({ group: 'the w.fuzzer became a member of a private room it was never invited to', example: w.othersPrivate.id });
    const foreign = await w.t.database.db.selectFrom('messages').select('id').where('room_id', 'in', [w.othersPrivate.id, w.othersPublic.id]).execute();
    if (foreign.length > 0) violations.push({ group: 'messages landed in rooms the w.fuzzer is not in', example: JSON.stringify(foreign) });

    const report = summarize(violations);
    console.log(
      `[fuzz ${dialect} seed ${SEED_TEXT}] ${REQUESTS} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ${violations.length} violations`,
    );
    expect(Math.min(...perEndpoint.values())).toBeGreaterThanOrEqual(Math.floor(REQUESTS / endpoints.length));
    expect(report).toEqual([]);
  },
  120_000,
);


  it('derives each target’s fields from the served OpenAPI document, with the services’ limits where the schema has none', () => {
    const byKey = new Map(endpoints.map((e) => [e.key, e]));
    const fieldsOf = (key: string) => {
      const body = byKey.get(key)?.body;
      return body === undefined || body === 'none' ? [] : body.map((f) => f.name);
    };
    expect(fieldsOf('POST /api/v1/auth/register').sort()).toEqual(['confirmPassword', 'email', 'password', 'username']);
    expect(byKey.get('POST /api/v1/rooms/:roomId/messages')?.body).toContainEqual({ name: 'clientId', type: 'string', required: true, min: 1, max: 64 });
    expect(byKey.get('POST /api/v1/rooms/:roomId/messages')?.body).toContainEqual({ name: 'attachments', type: 'array', required: false });
    expect(byKey.get('PUT /api/v1/rooms/:roomId/members/:userId/role')?.body).toEqual([{ name: 'role', type: 'string', required: true, min: 6, max: 9 }]);
    expect(byKey.get('GET /api/v1/rooms/:roomId/messages')?.query.map((q) => q.name).sort()).toEqual(['after', 'before', 'changedAfter', 'events', 'limit']);
    expect(byKey.get('PATCH /api/v1/rooms/:roomId/messages/:seq')?.body).toEqual([{ name: 'body', type: 'string', required: true, min: 1, max: 4000, trimmed: true }]);
    expect(endpoints.filter((e) => e.body !== 'none').every((e) => e.validBody !== undefined)).toBe(true);
    expect(byKey.get('GET /api/v1/search')?.query).toEqual([
      { name: 'q', type: 'string', required: false, max: 300 },
      { name: 'roomId', type: 'string', required: false, min: 1, max: 64 },
      { name: 'before', type: 'string', required: false, min: 1, max: 200 },
      { name: 'limit', type: 'integer', required: false, min: 1, max: 100 },
    ]);
  });

  it('refuses every search query that cannot be valid — by the schema or by the service — with a 4xx in the error shape, and answers the odd ones', async () => {
    const search = endpoints.find((e) => e.key === 'GET /api/v1/search')!;
    const problems: string[] = [];
    const send = (query: string, method: 'GET' | 'HEAD' = 'GET') =>
      w.t.app.inject({ method, url: `/api/v1/search?${query}`, headers: as(w.fuzzer) });
    const refused = [...search.query.flatMap(refusedQueries), ...(search.refusedQueries ?? [])];
    expect(refused.length).toBeGreaterThan(40);
    for (const query of refused) {
      const full = query.split('&').some((part) => part.startsWith('q=')) ? query : `q=seed&${query}`;
      for (const method of ['GET', 'HEAD'] as const) {
        const response = await send(full, method);
        const problem = response.statusCode < 400 || response.statusCode >= 500 ? `answered ${response.statusCode}` : refusalProblem(response, method);
        if (problem) problems.push(`${method} ${full.slice(0, 120)}: ${problem} ${response.body.slice(0, 200)}`);
      }
    }
    for (const query of search.query.flatMap(oddQueries)) {
      const full = query.split('&').some((part) => part.startsWith('q=')) ? query : `q=seed&${query}`;
      const response = await send(full);
      const problem = response.statusCode >= 500 ? `answered ${response.statusCode}` : response.statusCode >= 300 ? refusalProblem(response, 'GET') : undefined;
      if (problem) problems.push(`GET ${full.slice(0, 120)}: ${problem} ${response.body.slice(0, 200)}`);
    }
    expect(problems).toEqual([]);
    // The fuzzer's own search does work: the seed message of its room.
    const found = await send(`q=seed&roomId=${w.room.id}`);
    expect(found.statusCode).toBe(200);
    expect(found.json().results.map((r: { message: { body: string } }) => r.message.body)).toContain('seed');
  });

});
