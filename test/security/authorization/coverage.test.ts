/**
 * The matrix covers the whole API: a row in rows.ts for every /api/v1 route the router
 * serves and every /api operation the served OpenAPI document lists (so a new endpoint
 * fails here until it has a row), and the world counts the callers it claims to.
 */
import { describe, expect, it } from 'vitest';
import type { Member } from '../../../src/shared/protocol.js';
import { DIALECTS } from '../../support/databases.js';
import { apiRoutes, documentedRoutes, routeKey } from '../security-harness.js';
import { ROOM_ROWS, USER_ROWS, WS_KEY } from './rows.js';
import { useWorld } from './world.js';

/** The route keys the rows cover (the GET rows cover HEAD too: Fastify answers it for every GET). */
function rowKeys(): Set<string> {
  const rows = new Set<string>([WS_KEY, ...ROOM_ROWS.map((r) => r.key), ...USER_ROWS.map((r) => r.key)]);
  for (const key of [...rows]) if (key.startsWith('GET ')) rows.add(key.replace(/^GET /, 'HEAD '));
  return rows;
}

describe.each(DIALECTS)('the authorization matrix on %s', (dialect) => {
  const stage = useWorld(dialect);

  it('has a row for every /api/v1 route the app serves, and no row for a route it does not', () => {
    const served = new Set(apiRoutes(stage.t.app).map(routeKey));
    const rows = rowKeys();
    expect([...served].filter((key) => !rows.has(key)).sort(), 'routes without a matrix row').toEqual([]);
    expect([...rows].filter((key) => !served.has(key)).sort(), 'rows for routes the app does not serve').toEqual([]);
  });

  it('reads the route list from the router, which includes every documented operation', async () => {
    const served = new Set(apiRoutes(stage.t.app).map(routeKey));
    const documented = (await documentedRoutes(stage.t.app)).map(routeKey);
    expect(documented.length).toBeGreaterThan(10);
    expect(documented.filter((key) => !served.has(key))).toEqual([]);
  });

  it('counts a kicked and a banned member among the callers: out of R and P, only the banned one on record as banned', async () => {
    const kicked = stage.world.callers['kicked-member'].session!.user.id;
    const banned = stage.world.callers['banned-member'].session!.user.id;
    for (const room of [stage.world.R, stage.world.P]) {
      const members = (await stage.kit.must(stage.world.O, { method: 'GET', url: `/api/v1/rooms/${room.id}/members` }, 200)).json() as Member[];
      const ids = members.map((m) => m.user.id);
      expect(ids).not.toContain(kicked);
      expect(ids).not.toContain(banned);
      expect(ids).toContain(stage.world.T.user.id);
      expect(members.filter((m) => m.role === 'moderator').map((m) => m.user.id).sort()).toEqual([stage.world.D.user.id, stage.world.D2.user.id].sort());
    }
    const bans = await stage.t.database.db
      .selectFrom('room_bans')
      .select(['room_id', 'user_id', 'banned_by'])
      .where('room_id', 'in', [stage.world.R.id, stage.world.P.id])
      .execute();
    expect(bans.sort((a, b) => (a.room_id === stage.world.R.id ? -1 : 1) - (b.room_id === stage.world.R.id ? -1 : 1))).toEqual([
      { room_id: stage.world.R.id, user_id: banned, banned_by: stage.world.D.user.id },
      { room_id: stage.world.P.id, user_id: banned, banned_by: stage.world.O.user.id },
    ]);
  });

  it('has a row for every /api operation of the served OpenAPI document (GET /api/docs/json)', async () => {
    const rows = rowKeys();
    const documented = (await documentedRoutes(stage.t.app)).map(routeKey).filter((key) => / \/api\//.test(key));
    expect(documented.length).toBeGreaterThan(10);
    expect(documented.filter((key) => !rows.has(key)).sort(), 'documented /api routes without a row in rows.ts').toEqual([]);
  });
});
