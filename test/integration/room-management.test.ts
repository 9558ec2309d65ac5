/**
 * Managing a room as a person does (issue 15, item 8): the invite page, adding a member by
 * username, the ban list and unban, an owner who must hand over before leaving, deleting a
 * room, and membership events in the timeline.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MessagePage, RoomEvent } from '../../src/shared/protocol.js';
import { as, listenOnLoopback, signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { acceptInvite, createInvite, createRoom, readPage, sendMessage } from '../support/factories.js';
import { isMember, type Frame } from '../support/frames.js';
import { connectWs } from '../support/ws-client.js';

describe.each(DIALECTS)('room management on %s', (dialect) => {
  const t = useTestApp(dialect);
  let base: string;
  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
  });

  const call = (session: Session | null, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, ...(session ? { headers: as(session) } : {}), ...(payload ? { payload } : {}) });

  /** A private room with an owner, a moderator and a plain member. */
  async function privateRoom() {
    const owner = await signUp(t.app);
    const moderator = await signUp(t.app);
    const member = await signUp(t.app);
    const room = await createRoom(t.app, owner, { isPrivate: true });
    for (const session of [moderator, member]) await acceptInvite(t.app, session, (await createInvite(t.app, owner, room.id)).code);
    expect((await call(owner, 'PUT', `/rooms/${room.id}/members/${moderator.user.id}/role`, { role: 'moderator' })).statusCode).toBe(204);
    return { owner, moderator, member, room };
  }

  describe('invite preview', () => {
    it('names the room and who invited, signed out and signed in, and nothing else', async () => {
      const { owner, moderator, room } = await privateRoom();
      const invite = await createInvite(t.app, moderator, room.id, { expiresInHours: 5 });
      for (const session of [null, await signUp(t.app), owner]) {
        const answer = await call(session, 'GET', `/invites/${invite.code}`);
        expect(answer.statusCode).toBe(200);
        expect(answer.json()).toEqual({
          room: { id: room.id, name: room.name, isPrivate: true, memberCount: 3 },
          invitedBy: { username: moderator.user.username },
          expiresAt: invite.expiresAt,
        });
      }
    });

    it('reveals nothing for a bad, revoked, expired or used-up code', async () => {
      const { owner, room } = await privateRoom();
      const expectRefused = async (code: string, status: number, errorCode: string) => {
        const answer = await call(null, 'GET', `/invites/${code}`);
        expect(answer.statusCode).toBe(status);
        expect(answer.json().error.code).toBe(errorCode);
        expect(answer.body).not.toContain(room.name);
        expect(answer.body).not.toContain(room.id);
      };
      await expectRefused('no-such-code-at-all', 404, 'invite_not_found');
      const revoked = await createInvite(t.app, owner, room.id);
      expect((await call(owner, 'DELETE', `/rooms/${room.id}/invites/${revoked.id}`)).statusCode).toBe(204);
      await expectRefused(revoked.code, 410, 'invite_revoked');
      const usedUp = await createInvite(t.app, owner, room.id, { maxUses: 1 });
      await acceptInvite(t.app, await signUp(t.app), usedUp.code);
      await expectRefused(usedUp.code, 410, 'invite_used_up');
      const expiring = await createInvite(t.app, owner, room.id, { expiresInHours: 1 });
      t.clock.advance(61 * 60 * 1000);
      await expectRefused(expiring.code, 410, 'invite_expired');
    });
  });

  describe('adding a member by username', () => {
    it('lets an owner or moderator add someone, whose socket learns of the room at once', async () => {
      const { owner, moderator, member, room } = await privateRoom();
      const guest = await signUp(t.app);
      const socket = await connectWs(base, { cookie: guest.cookie });
      try {
        const added = await call(moderator, 'POST', `/rooms/${room.id}/members`, { username: `  ${guest.user.username.toUpperCase()} ` });
        expect(added.statusCode).toBe(201);
        expect(added.json().member).toMatchObject({ user: { id: guest.user.id, username: guest.user.username }, role: 'member' });
        const frame = await socket.waitFor<Frame<'member'>>(isMember(room.id, guest.user.id, 'joined'));
        expect(frame.event).toMatchObject({ change: 'joined', user: { id: guest.user.id }, actor: { id: moderator.user.id } });
        expect((await call(guest, 'GET', `/rooms/${room.id}`)).statusCode).toBe(200);
      } finally {
        socket.close();
      }
      // A plain member may not; the owner may.
      const other = await signUp(t.app);
      const byMember = await call(member, 'POST', `/rooms/${room.id}/members`, { username: other.user.username });
      expect(byMember.statusCode).toBe(403);
      expect((await call(owner, 'POST', `/rooms/${room.id}/members`, { username: other.user.username })).statusCode).toBe(201);
    });

    it('answers 404 for nobody of that name, 409 for a member, and refuses the banned until unbanned', async () => {
      const { owner, member, room } = await privateRoom();
      const unknown = await call(owner, 'POST', `/rooms/${room.id}/members`, { username: 'nobody-by-this-name' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json().error).toMatchObject({ field: 'username', message: expect.stringMatching(/Nobody is called “nobody-by-this-name”/) });
      const again = await call(owner, 'POST', `/rooms/${room.id}/members`, { username: member.user.username });
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe('already_member');
      expect((await call(owner, 'PUT', `/rooms/${room.id}/bans/${member.user.id}`)).statusCode).toBe(204);
      const banned = await call(owner, 'POST', `/rooms/${room.id}/members`, { username: member.user.username });
      expect(banned.statusCode).toBe(409);
      expect(banned.json().error.code).toBe('banned');
      expect((await call(member, 'GET', `/rooms/${room.id}`)).statusCode).toBe(404);
      expect((await call(owner, 'DELETE', `/rooms/${room.id}/bans/${member.user.id}`)).statusCode).toBe(204);
      expect((await call(owner, 'POST', `/rooms/${room.id}/members`, { username: member.user.username })).statusCode).toBe(201);
    });

    it('hides a private room from an outsider who tries to add people to it', async () => {
      const { room } = await privateRoom();
      const outsider = await signUp(t.app);
      expect((await call(outsider, 'POST', `/rooms/${room.id}/members`, { username: outsider.user.username })).statusCode).toBe(404);
    });
  });

  describe('ban list', () => {
    it('lists bans to the owner and moderators only, and an unban takes the user off it', async () => {
      const { owner, moderator, member, room } = await privateRoom();
      const pest = await signUp(t.app);
      await call(owner, 'POST', `/rooms/${room.id}/members`, { username: pest.user.username });
      expect((await call(moderator, 'PUT', `/rooms/${room.id}/bans/${pest.user.id}`)).statusCode).toBe(204);
      const list = await call(owner, 'GET', `/rooms/${room.id}/bans`);
      expect(list.statusCode).toBe(200);
      expect(list.json().bans).toEqual([
        { user: { id: pest.user.id, username: pest.user.username }, bannedBy: { id: moderator.user.id, username: moderator.user.username }, createdAt: expect.any(String) },
      ]);
      expect((await call(member, 'GET', `/rooms/${room.id}/bans`)).statusCode).toBe(403);
      expect((await call(pest, 'GET', `/rooms/${room.id}/bans`)).statusCode).toBe(404);
      expect((await call(member, 'DELETE', `/rooms/${room.id}/bans/${pest.user.id}`)).statusCode).toBe(403);
      expect((await call(moderator, 'DELETE', `/rooms/${room.id}/bans/${pest.user.id}`)).statusCode).toBe(204);
      expect((await call(owner, 'GET', `/rooms/${room.id}/bans`)).json().bans).toEqual([]);
    });
  });

  describe('an owner leaving', () => {
    it('refuses a plain leave while others are in the room; after handing over, the owner may leave', async () => {
      const { owner, moderator, member, room } = await privateRoom();
      const refused = await call(owner, 'POST', `/rooms/${room.id}/leave`);
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error).toMatchObject({ code: 'owner_must_hand_over', message: expect.stringMatching(/make another member its owner/) });
      expect((await call(moderator, 'PUT', `/rooms/${room.id}/owner`, { userId: member.user.id })).statusCode).toBe(403);
      expect((await call(owner, 'PUT', `/rooms/${room.id}/owner`, { userId: 'not-a-member' })).statusCode).toBe(404);
      expect((await call(owner, 'PUT', `/rooms/${room.id}/owner`, { userId: member.user.id })).statusCode).toBe(204);
      const roles = (await call(member, 'GET', `/rooms/${room.id}/members`)).json() as Array<{ user: { id: string }; role: string }>;
      expect(Object.fromEntries(roles.map((m) => [m.user.id, m.role]))).toEqual({
        [owner.user.id]: 'moderator',
        [moderator.user.id]: 'moderator',
        [member.user.id]: 'owner',
      });
      expect((await call(owner, 'POST', `/rooms/${room.id}/leave`)).statusCode).toBe(204);
      expect((await call(member, 'GET', `/rooms/${room.id}`)).json().room.role).toBe('owner');
    });

    it('deletes the room when its owner, alone in it, leaves', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(t.app, owner, { isPrivate: false });
      expect((await call(owner, 'POST', `/rooms/${room.id}/leave`)).statusCode).toBe(204);
      expect(await t.database.db.selectFrom('rooms').select('id').where('id', '=', room.id).executeTakeFirst()).toBeUndefined();
    });
  });

  describe('deleting a room', () => {
    it('lets only the owner delete; the messages (ciphertext too), members and invites are gone, and every member is told', async () => {
      const { owner, moderator, member, room } = await privateRoom();
      await sendMessage(t.app, member, room.id, 'a secret nobody keeps');
      await createInvite(t.app, owner, room.id);
      expect((await call(moderator, 'DELETE', `/rooms/${room.id}`)).statusCode).toBe(403);
      const socket = await connectWs(base, { cookie: member.cookie });
      try {
        expect((await call(owner, 'DELETE', `/rooms/${room.id}`)).statusCode).toBe(204);
        await socket.waitFor((f) => f.type === 'room_deleted' && f.roomId === room.id);
      } finally {
        socket.close();
      }
      const { db } = t.database;
      expect(await db.selectFrom('messages').select('id').where('room_id', '=', room.id).execute()).toEqual([]);
      expect(await db.selectFrom('room_members').select('user_id').where('room_id', '=', room.id).execute()).toEqual([]);
      expect(await db.selectFrom('room_invites').select('id').where('room_id', '=', room.id).execute()).toEqual([]);
      expect(await db.selectFrom('room_events').select('id').where('room_id', '=', room.id).execute()).toEqual([]);
      for (const session of [owner, moderator, member]) {
        expect((await call(session, 'GET', `/rooms/${room.id}`)).statusCode).toBe(404);
        expect((await call(session, 'GET', `/rooms/${room.id}/messages`)).statusCode).toBe(404);
      }
    });
  });

  describe('membership events in the timeline', () => {
    it('keeps joined, left and removed between the messages they came between, page by page', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(t.app, owner, { isPrivate: true });
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const first = await sendMessage(t.app, owner, room.id, 'one');
      await call(owner, 'POST', `/rooms/${room.id}/members`, { username: alice.user.username });
      await acceptInvite(t.app, bob, (await createInvite(t.app, owner, room.id)).code);
      const second = await sendMessage(t.app, owner, room.id, 'two');
      expect((await call(alice, 'POST', `/rooms/${room.id}/leave`)).statusCode).toBe(204);
      expect((await call(owner, 'POST', `/rooms/${room.id}/members/${bob.user.id}/remove`)).statusCode).toBe(204);

      const summary = (events: RoomEvent[] | undefined) =>
        (events ?? []).map((e) => `${e.afterSeq} ${e.user.username} ${e.change}${e.actor ? ` by ${e.actor.username}` : ''}`);
      const newest = await readPage(t.app, owner, room.id, '?events=true');
      expect(summary(newest.events)).toEqual([
        `${first.seq} ${alice.user.username} joined by ${owner.user.username}`,
        `${first.seq} ${bob.user.username} joined`,
        `${second.seq} ${alice.user.username} left`,
        `${second.seq} ${bob.user.username} removed by ${owner.user.username}`,
      ]);
      // Paged one message at a time, each event comes exactly once, with the page it follows.
      const older: MessagePage = await readPage(t.app, owner, room.id, `?limit=1&events=true`);
      expect(summary(older.events)).toEqual(summary(newest.events).slice(2));
      const oldest = await readPage(t.app, owner, room.id, `?before=${second.seq}&limit=1&events=true`);
      expect(summary(oldest.events)).toEqual(summary(newest.events).slice(0, 2));
      const catchUp = await readPage(t.app, owner, room.id, `?after=${second.seq}&events=true`);
      expect(summary(catchUp.events)).toEqual(summary(newest.events).slice(2));
      // Not asked for, a page is as before (no events, no extra query).
      expect(await readPage(t.app, owner, room.id)).not.toHaveProperty('events');
    });
  });
});
