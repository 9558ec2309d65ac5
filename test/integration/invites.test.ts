/**
 * Managing invite links: the room's live invites are listed and can be
 * revoked; an invite stops working when its creator can no longer invite to the room; a
 * removal or ban is not undone by an invite made before it. On SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { LIMITS, type RoomInvite } from '../../src/shared/protocol.js';
import { as, signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { acceptInvite, createInvite, createRoom } from '../support/factories.js';

const HOUR_MS = 60 * 60 * 1000;

describe.each(DIALECTS)('invite links on %s', (dialect) => {
  const t = useTestApp(dialect);

  const call = (session: Session, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: as(session), ...(payload ? { payload } : {}) });
  const listInvites = async (session: Session, roomId: string): Promise<RoomInvite[]> => {
    const response = await call(session, 'GET', `/rooms/${roomId}/invites`);
    expect(response.statusCode).toBe(200);
    return (response.json() as { invites: RoomInvite[] }).invites;
  };
  const isMember = async (roomId: string, userId: string) =>
    (await t.database.db.selectFrom('room_members').select('user_id').where('room_id', '=', roomId).where('user_id', '=', userId).executeTakeFirst()) !==
    undefined;
  async function expectRefused(session: Session, code: string, roomId: string, error: string, status = 410) {
    const response = await call(session, 'POST', `/invites/${code}/accept`);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json().error.code).toBe(error);
    expect(await isMember(roomId, session.user.id)).toBe(false);
    return response.json().error.message as string;
  }

  /** A private room with its owner, a moderator and a plain member. */
  async function privateRoom() {
    const owner = await signUp(t.app);
    const moderator = await signUp(t.app);
    const member = await signUp(t.app);
    const room = await createRoom(t.app, owner, { isPrivate: true });
    for (const session of [moderator, member]) await acceptInvite(t.app, session, (await createInvite(t.app, owner, room.id)).code);
    expect((await call(owner, 'PUT', `/rooms/${room.id}/members/${moderator.user.id}/role`, { role: 'moderator' })).statusCode).toBe(204);
    return { owner, moderator, member, room };
  }

  it('gives an invite made without an expiry the default life of LIMITS.inviteHoursDefault hours', async () => {
    const owner = await signUp(t.app);
    const room = await createRoom(t.app, owner, { isPrivate: true });
    const invite = await createInvite(t.app, owner, room.id);
    expect(invite.expiresAt).toBe(new Date(t.clock.now() + LIMITS.inviteHoursDefault * HOUR_MS).toISOString());
  });

  it('lists the live invites with creator, uses, use limit and expiry, to the owner and moderators only', async () => {
    const { owner, moderator, member, room } = await privateRoom();
    const before = (await listInvites(owner, room.id)).map((invite) => invite.id);
    const limited = await createInvite(t.app, moderator, room.id, { maxUses: 3, expiresInHours: 2 });
    const limitedAt = t.clock.now();
    await acceptInvite(t.app, await signUp(t.app), limited.code);
    t.clock.advance(1000);
    const open = await createInvite(t.app, owner, room.id);
    const listed = (await listInvites(moderator, room.id)).filter((invite) => !before.includes(invite.id));
    // Newest first.
    expect(listed).toEqual([
      { id: open.id, createdBy: { id: owner.user.id, username: owner.user.username }, createdAt: new Date(t.clock.now()).toISOString(), expiresAt: open.expiresAt, maxUses: null, uses: 0 },
      {
        id: limited.id,
        createdBy: { id: moderator.user.id, username: moderator.user.username },
        createdAt: new Date(limitedAt).toISOString(),
        expiresAt: limited.expiresAt,
        maxUses: 3,
        uses: 1,
      },
    ]);
    expect(Date.parse(limited.expiresAt!)).toBe(limitedAt + 2 * HOUR_MS);

    const byMember = await call(member, 'GET', `/rooms/${room.id}/invites`);
    expect(byMember.statusCode).toBe(403);
    expect(byMember.json().error.code).toBe('forbidden');
    expect((await call(await signUp(t.app), 'GET', `/rooms/${room.id}/invites`)).statusCode).toBe(404);
  });

  it('leaves expired and used-up invites out of the list', async () => {
    const { owner, room } = await privateRoom();
    const once = await createInvite(t.app, owner, room.id, { maxUses: 1 });
    await acceptInvite(t.app, await signUp(t.app), once.code);
    const hour = await createInvite(t.app, owner, room.id, { expiresInHours: 1 });
    const week = await createInvite(t.app, owner, room.id);
    const ids = async () => (await listInvites(owner, room.id)).map((invite) => invite.id);
    expect(await ids()).not.toContain(once.id);
    expect(await ids()).toEqual(expect.arrayContaining([hour.id, week.id]));
    t.clock.advance(HOUR_MS + 1);
    expect(await ids()).not.toContain(hour.id);
    expect(await ids()).toContain(week.id);
  });

  it('revokes an invite: its link is refused with 410 invite_revoked, it leaves the list, and revoking again is 404', async () => {
    const { owner, moderator, member, room } = await privateRoom();
    const invite = await createInvite(t.app, owner, room.id, { maxUses: 5 });
    expect((await call(member, 'DELETE', `/rooms/${room.id}/invites/${invite.id}`)).statusCode).toBe(403);
    expect((await call(moderator, 'DELETE', `/rooms/${room.id}/invites/${invite.id}`)).statusCode).toBe(204);
    expect((await listInvites(owner, room.id)).map((i) => i.id)).not.toContain(invite.id);
    const message = await expectRefused(await signUp(t.app), invite.code, room.id, 'invite_revoked');
    expect(message).toMatch(/revoked/);
    const again = await call(owner, 'DELETE', `/rooms/${room.id}/invites/${invite.id}`);
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('not_found');
  });

  it("answers 404 for another room's invite and changes nothing", async () => {
    const { owner, room } = await privateRoom();
    const other = await createRoom(t.app, owner, { isPrivate: true });
    const invite = await createInvite(t.app, owner, other.id);
    expect((await call(owner, 'DELETE', `/rooms/${room.id}/invites/${invite.id}`)).statusCode).toBe(404);
    await acceptInvite(t.app, await signUp(t.app), invite.code);
  });

  it("stops a moderator's links once demoted, even if promoted again, and lists them no more", async () => {
    const { owner, moderator, room } = await privateRoom();
    const invite = await createInvite(t.app, moderator, room.id);
    expect((await call(owner, 'PUT', `/rooms/${room.id}/members/${moderator.user.id}/role`, { role: 'member' })).statusCode).toBe(204);
    await expectRefused(await signUp(t.app), invite.code, room.id, 'invite_revoked');
    expect((await listInvites(owner, room.id)).map((i) => i.id)).not.toContain(invite.id);
    expect((await call(owner, 'PUT', `/rooms/${room.id}/members/${moderator.user.id}/role`, { role: 'moderator' })).statusCode).toBe(204);
    await expectRefused(await signUp(t.app), invite.code, room.id, 'invite_revoked');
  });

  it('asks at acceptance whether the creator may still invite, so a role changed by any means ends the link', async () => {
    const { moderator, room } = await privateRoom();
    const invite = await createInvite(t.app, moderator, room.id);
    await t.database.db.updateTable('room_members').set({ role: 'member' }).where('room_id', '=', room.id).where('user_id', '=', moderator.user.id).execute();
    const message = await expectRefused(await signUp(t.app), invite.code, room.id, 'invite_revoked');
    expect(message).toMatch(/can no longer invite/);
  });

  it('refuses the link of a moderator who was demoted and removed: the stranger stays out (the review\'s case)', async () => {
    const { owner, moderator, room } = await privateRoom();
    const invite = await createInvite(t.app, moderator, room.id, { maxUses: 10 });
    await call(owner, 'PUT', `/rooms/${room.id}/members/${moderator.user.id}/role`, { role: 'member' });
    expect((await call(owner, 'POST', `/rooms/${room.id}/members/${moderator.user.id}/remove`)).statusCode).toBe(204);
    const stranger = await signUp(t.app);
    await expectRefused(stranger, invite.code, room.id, 'invite_revoked');
    expect((await call(stranger, 'GET', `/rooms/${room.id}`)).statusCode).toBe(404);
  });

  it("stops the links of a moderator or owner who leaves", async () => {
    const { owner, moderator, member, room } = await privateRoom();
    const byModerator = await createInvite(t.app, moderator, room.id);
    const byOwner = await createInvite(t.app, owner, room.id);
    expect((await call(moderator, 'POST', `/rooms/${room.id}/leave`)).statusCode).toBe(204);
    await expectRefused(await signUp(t.app), byModerator.code, room.id, 'invite_revoked');
    // An owner hands the room over before leaving (room-management.test.ts).
    expect((await call(owner, 'PUT', `/rooms/${room.id}/owner`, { userId: member.user.id })).statusCode).toBe(204);
    expect((await call(owner, 'POST', `/rooms/${room.id}/leave`)).statusCode).toBe(204);
    await expectRefused(await signUp(t.app), byOwner.code, room.id, 'invite_revoked');
  });

  it('does not let a kicked member back in with an invite made before the kick; a newer one does', async () => {
    const { owner, member, room } = await privateRoom();
    const older = await createInvite(t.app, owner, room.id, { maxUses: 10 });
    expect((await call(owner, 'POST', `/rooms/${room.id}/members/${member.user.id}/remove`)).statusCode).toBe(204);
    const message = await expectRefused(member, older.code, room.id, 'invite_revoked');
    expect(message).toMatch(/before you were removed/);
    // The invite still works for others, and a link made after the kick lets them back.
    await acceptInvite(t.app, await signUp(t.app), older.code);
    await acceptInvite(t.app, member, (await createInvite(t.app, owner, room.id)).code);
    expect(await isMember(room.id, member.user.id)).toBe(true);
  });

  it('keeps a banned member out with every invite, and after the ban is lifted still with the ones made before it', async () => {
    const { owner, member, room } = await privateRoom();
    const older = await createInvite(t.app, owner, room.id);
    expect((await call(owner, 'PUT', `/rooms/${room.id}/bans/${member.user.id}`)).statusCode).toBe(204);
    const during = await createInvite(t.app, owner, room.id);
    await expectRefused(member, older.code, room.id, 'banned', 403);
    await expectRefused(member, during.code, room.id, 'banned', 403);
    expect((await call(owner, 'DELETE', `/rooms/${room.id}/bans/${member.user.id}`)).statusCode).toBe(204);
    await expectRefused(member, older.code, room.id, 'invite_revoked');
    await acceptInvite(t.app, member, during.code);
  });

  it('answers 401 to the new endpoints when signed out', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/rooms/x/invites'],
      ['DELETE', '/api/v1/rooms/x/invites/y'],
    ] as const) {
      expect((await t.app.inject({ method, url })).statusCode, `${method} ${url}`).toBe(401);
    }
  });
});
