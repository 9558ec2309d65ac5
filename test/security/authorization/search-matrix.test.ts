/**
 * What search answers each caller of the matrix's world (search-rows.ts has the rows): the
 * members of R and P find their marked messages, in all their rooms and with a roomId;
 * nobody else — outsiders, the removed, kicked and banned members, the expired-invite
 * holder — finds anything of either room, and a roomId of either answers them exactly like
 * a room that does not exist. Membership is read on every search: leaving or a ban hides
 * a room at once.
 */
import { describe, expect, it } from 'vitest';
import type { SearchPage } from '../../../src/shared/search-shapes.js';
import { signUp, uniqueName, type Session } from '../../support/app.js';
import { DIALECTS } from '../../support/databases.js';
import { answerProblems, HIDDEN, leakProblems, SIGNED_IN_KINDS } from './kit.js';
import { searchUrl } from './search-rows.js';
import { useWorld } from './world.js';

describe.each(DIALECTS)('search through the authorization matrix, on %s', (dialect) => {
  const stage = useWorld(dialect);

  const search = async (session: Session | undefined, q: string, roomId?: string) => stage.kit.call(session, { method: 'GET', url: searchUrl(q, roomId) });
  const page = async (session: Session, q: string, roomId?: string): Promise<SearchPage> =>
    (await stage.kit.must(session, { method: 'GET', url: searchUrl(q, roomId) }, 200)).json() as SearchPage;

  it('lets the owner, the moderators and the members of R and P find the marked messages of both', async () => {
    const { world } = stage;
    for (const session of [world.O, world.D, world.D2, world.M, world.T]) {
      for (const [room, mark] of [[world.R, world.rMark], [world.P, world.pMark]] as const) {
        const everywhere = await page(session, mark);
        expect(everywhere.results.length, `${session.user.username} searching ${mark}`).toBeGreaterThanOrEqual(3);
        for (const { message, room: found } of everywhere.results) {
          expect(found).toEqual({ id: room.id, name: room.name, kind: 'room' });
          expect(message.body).toContain(mark);
        }
        expect(everywhere.results.map((r) => r.message.body)).toContain(`${mark} by the bystander`);
        const inRoom = await page(session, `${mark} bystan`, room.id);
        expect(inRoom.results.map((r) => r.message.body)).toEqual([`${mark} by the bystander`]);
      }
    }
  });

  it('finds nothing of R or P for anyone not in them, whatever the query', async () => {
    const { world } = stage;
    const queries = [world.rMark, world.pMark, `${world.rMark.slice(0, 6)}`, 'kick ban', `from:${world.O.user.username}`, `from:${world.T.user.username}`, 'after:2000-01-01', 'has:file'];
    const problems: string[] = [];
    for (const kind of SIGNED_IN_KINDS) {
      const session = world.callers[kind].session!;
      for (const q of queries) {
        const response = await search(session, q);
        if (response.statusCode !== 200) {
          problems.push(`${kind} ${q}: ${response.statusCode} ${response.body}`);
          continue;
        }
        const results = (response.json() as SearchPage).results;
        problems.push(...leakProblems(response.body, world, true).map((p) => `${kind} ${q}: ${p}`));
        if (results.some((r) => r.room.id === world.R.id || r.room.id === world.P.id)) problems.push(`${kind} ${q}: a result in R or P`);
        if (q === world.rMark || q === world.pMark) {
          if (results.length > 0) problems.push(`${kind} ${q}: ${results.length} results`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('answers a roomId of R or P to everyone not in it exactly like a room that does not exist', async () => {
    const { world } = stage;
    const problems: string[] = [];
    for (const kind of SIGNED_IN_KINDS) {
      const session = world.callers[kind].session!;
      for (const [room, mark] of [[world.R, world.rMark], [world.P, world.pMark]] as const) {
        for (const q of [mark, 'has:file']) {
          const response = await search(session, q, room.id);
          const reference = await search(session, q, world.unknownRoomId);
          problems.push(...answerProblems(response, HIDDEN, 'GET').map((p) => `${kind} ${q} in ${room.name}: ${p}`));
          if (response.body !== reference.body) problems.push(`${kind} ${q} in ${room.name}: ${response.body} vs ${reference.body}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('refuses a logged-out caller and a stale cookie with 401 before reading the query', async () => {
    const { world } = stage;
    for (const session of [undefined, world.callers['ended-session'].session, world.ender]) {
      for (const url of [searchUrl(world.rMark), searchUrl(world.rMark, world.R.id), '/api/v1/search', searchUrl('from:')]) {
        const response = await stage.kit.call(session, { method: 'GET', url });
        expect(answerProblems(response, { status: 401, code: 'auth_required' }, 'GET')).toEqual([]);
        expect(leakProblems(response.body, world, true)).toEqual([]);
      }
    }
  });

  it('stops finding a room the moment its member leaves or is banned, and finds it again after rejoining', async () => {
    const { world, kit } = stage;
    const visitor = await signUp(stage.t.app, uniqueName('visitor'));
    const finds = async () => (await page(visitor, world.pMark)).results.filter((r) => r.room.id === world.P.id).length;
    expect(await finds()).toBe(0);
    await kit.post(visitor, `/api/v1/rooms/${world.P.id}/join`);
    expect(await finds()).toBeGreaterThan(0);
    await kit.post(visitor, `/api/v1/rooms/${world.P.id}/leave`, undefined, 204);
    expect(await finds()).toBe(0);
    expect((await search(visitor, world.pMark, world.P.id)).statusCode).toBe(404);
    await kit.post(visitor, `/api/v1/rooms/${world.P.id}/join`);
    expect(await finds()).toBeGreaterThan(0);
    await kit.must(world.O, { method: 'PUT', url: `/api/v1/rooms/${world.P.id}/bans/${visitor.user.id}` }, 204);
    expect(await finds()).toBe(0);
    expect(answerProblems(await search(visitor, world.pMark, world.P.id), HIDDEN, 'GET')).toEqual([]);
  });
});
