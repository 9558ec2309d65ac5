/**
 * Room roles and moderation: the owner appoints moderators; owners and moderators remove
 * or ban members; a banned user cannot come back by any path.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { as, listenOnLoopback, signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { connectWs } from '../support/ws-client.js';
import { createInvite, createRoom } from '../support/factories.js';
import { isMember, isMessage } from '../support/frames.js';

describe.each(DIALECTS)('moderation on %s', (dialect) => {
  const t = useTestApp(dialect);
  let base: string;
  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
  });

  const call = (session: Session, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: as(session), ...(payload ? { payload } : {}) });

  async function roomWith(isPrivate: boolean) {
    const owner = await signUp(t.app);
    const moderator = await signUp(t.app);
    const member = await signUp(t.app);
    const name = `Mod ${Math.random().toString(36).slice(2, 8)}`;
    const room = await createRoom(t.app, owner, { name, isPrivate });
    const invite = await createInvite(t.app, owner, room.id);
    for (const session of [moderator, member]) {
      expect((await call(session, 'POST', `/invites/${invite.code}/accept`)).statusCode).toBe(200);
    }
    expect((await call(owner, 'PUT', `/rooms/${room.id}/members/${moderator.user.id}/role`, { role: 'moderator' })).statusCode).toBe(204);
    return { owner, moderator, member, room, invite };
  }

  const roleOf = async (viewer: Session, roomId: string, userId: string) =>
    ((await call(viewer, 'GET', `/rooms/${roomId}/members`)).json() as Array<{ user: { id: string }; role: string }>).find(
      (m) => m.user.id === userId,
    )?.role;

  it('lets the owner appoint and demote moderators, and nobody else change roles', async () => {
    const { owner, moderator, member, room } = await roomWith(false);
    expect(await roleOf(owner, room.id, moderator.user.id)).toBe('moderator');
    const byModerator = await call(moderator, 'PUT', `/rooms/${room.id}/members/${member.user.id}/role`, { role: 'moderator' });
    expect(byModerator.statusCode).toBe(403);
    expect(byModerator.json().error.code).toBe('forbidden');
    const onOwner = await call(owner, 'PUT', `/rooms/${room.id}/members/${owner.user.id}/role`, { role: 'member' });
    expect(onOwner.statusCode).toBe(403);
    const badRole = await call(owner, 'PUT', `/rooms/${room.id}/members/${member.user.id}/role`, { role: 'owner' });
    expect(badRole.statusCode).toBe(400);
    expect((await call(owner, 'PUT', `/rooms/${room.id}/members/${moderator.user.id}/role`, { role: 'member' })).statusCode).toBe(204);
    expect(await roleOf(owner, room.id, moderator.user.id)).toBe('member');
  });

  it('lets a moderator remove a plain member, who is told at once and stops receiving the room', async () => {
    const { owner, moderator, member, room } = await roomWith(true);
    const socket = await connectWs(base, { cookie: member.cookie });
    const removed = await call(moderator, 'POST', `/rooms/${room.id}/members/${member.user.id}/remove`);
    expect(removed.statusCode).toBe(204);
    await socket.waitFor(isMember(room.id, undefined, 'removed'));
    const after = socket.frames.length;
    await call(owner, 'POST', `/rooms/${room.id}/messages`, { body: 'after the removal', clientId: 'r1' });
    // A message in General (where the member still is) proves the socket is live and ordered.
    const general = ((await call(owner, 'GET', '/rooms')).json() as Array<{ id: string; name: string }>).find((r) => r.name === 'General')!;
    await call(owner, 'POST', `/rooms/${general.id}/messages`, { body: 'barrier', clientId: `b-${room.id}` });
    await socket.waitFor(isMessage(undefined, (m) => m.body === 'barrier'), { since: after });
    expect(socket.received(isMessage(room.id))).toEqual([]);
    expect((await call(member, 'GET', `/rooms/${room.id}/messages`)).statusCode).toBe(404);
    await socket.close();
  });

  it('keeps ranks: moderators cannot act on moderators or the owner, nobody acts on themselves', async () => {
    const { owner, moderator, room } = await roomWith(false);
    const second = await signUp(t.app);
    await call(second, 'POST', `/rooms/${room.id}/join`);
    await call(owner, 'PUT', `/rooms/${room.id}/members/${second.user.id}/role`, { role: 'moderator' });
    expect((await call(moderator, 'POST', `/rooms/${room.id}/members/${second.user.id}/remove`)).statusCode).toBe(403);
    expect((await call(moderator, 'PUT', `/rooms/${room.id}/bans/${owner.user.id}`)).statusCode).toBe(403);
    expect((await call(owner, 'POST', `/rooms/${room.id}/members/${owner.user.id}/remove`)).statusCode).toBe(400);
    expect((await call(owner, 'POST', `/rooms/${room.id}/members/${second.user.id}/remove`)).statusCode).toBe(204);
    expect((await call(owner, 'POST', `/rooms/${room.id}/members/${second.user.id}/remove`)).statusCode).toBe(404);
  });

  it('refuses plain members and strangers', async () => {
    const { member, moderator, room } = await roomWith(false);
    const stranger = await signUp(t.app);
    const byMember = await call(member, 'POST', `/rooms/${room.id}/members/${moderator.user.id}/remove`);
    expect(byMember.statusCode).toBe(403);
    const byStranger = await call(stranger, 'PUT', `/rooms/${room.id}/bans/${member.user.id}`);
    expect(byStranger.statusCode).toBe(403);
    expect(byStranger.json().error.code).toBe('not_member');
    expect(await roleOf(moderator, room.id, member.user.id)).toBe('member');
  });

  it('keeps a banned user out of a public room by every path until the ban is lifted; a kicked one may return', async () => {
    const { owner, member, room, invite } = await roomWith(false);
    const kicked = await signUp(t.app);
    await call(kicked, 'POST', `/rooms/${room.id}/join`);
    expect((await call(owner, 'POST', `/rooms/${room.id}/members/${kicked.user.id}/remove`)).statusCode).toBe(204);
    expect((await call(kicked, 'POST', `/rooms/${room.id}/join`)).statusCode).toBe(200);

    expect((await call(owner, 'PUT', `/rooms/${room.id}/bans/${member.user.id}`)).statusCode).toBe(204);
    for (const attempt of [
      () => call(member, 'POST', `/rooms/${room.id}/join`),
      () => call(member, 'POST', '/rooms/join', { name: room.name }),
      () => call(member, 'POST', `/invites/${invite.code}/accept`),
    ]) {
      const response = await attempt();
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('banned');
    }
    expect((await call(member, 'GET', `/rooms/${room.id}/messages`)).statusCode).toBe(403);
    expect((await call(owner, 'DELETE', `/rooms/${room.id}/bans/${member.user.id}`)).statusCode).toBe(204);
    expect((await call(owner, 'DELETE', `/rooms/${room.id}/bans/${member.user.id}`)).statusCode).toBe(404);
    expect((await call(member, 'POST', `/rooms/${room.id}/join`)).statusCode).toBe(200);
  });

  it('hides a private room from a banned user, who cannot use an invite either', async () => {
    const { owner, member, room, invite } = await roomWith(true);
    expect((await call(owner, 'PUT', `/rooms/${room.id}/bans/${member.user.id}`)).statusCode).toBe(204);
    expect((await call(member, 'GET', `/rooms/${room.id}`)).statusCode).toBe(404);
    const accept = await call(member, 'POST', `/invites/${invite.code}/accept`);
    expect(accept.statusCode).toBe(403);
    expect(accept.json().error.code).toBe('banned');
    const fresh = (await call(owner, 'POST', `/rooms/${room.id}/invites`, {})).json() as { code: string };
    expect((await call(member, 'POST', `/invites/${fresh.code}/accept`)).statusCode).toBe(403);
    const rooms = (await call(member, 'GET', '/rooms')).json() as Array<{ id: string }>;
    expect(rooms.map((r) => r.id)).not.toContain(room.id);
  });

  it('bans someone who already left, and answers 404 for a user who does not exist', async () => {
    const { owner, member, room } = await roomWith(false);
    await call(member, 'POST', `/rooms/${room.id}/leave`);
    expect((await call(owner, 'POST', `/rooms/${room.id}/members/${member.user.id}/remove`)).statusCode).toBe(404);
    expect((await call(owner, 'PUT', `/rooms/${room.id}/bans/${member.user.id}`)).statusCode).toBe(204);
    const back = await call(member, 'POST', `/rooms/${room.id}/join`);
    expect(back.statusCode).toBe(403);
    expect(back.json().error.code).toBe('banned');
    const ghost = await call(owner, 'PUT', `/rooms/${room.id}/bans/00000000-0000-0000-0000-000000000000`);
    expect(ghost.statusCode).toBe(404);
  });

  it('answers 401 to every moderation endpoint when signed out', async () => {
    for (const [method, url] of [
      ['POST', '/api/v1/rooms/x/members/y/remove'],
      ['PUT', '/api/v1/rooms/x/bans/y'],
      ['DELETE', '/api/v1/rooms/x/bans/y'],
      ['PUT', '/api/v1/rooms/x/members/y/role'],
    ] as const) {
      const response = await t.app.inject({ method, url, payload: method === 'DELETE' ? undefined : {} });
      expect(response.statusCode, `${method} ${url}`).toBe(401);
    }
  });
});
