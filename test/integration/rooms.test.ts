/**
 * Rooms, membership, the directory, invites and read markers through HTTP (the Rooms
 * part of api.md), on SQLite and PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Invite, Member, Room } from '../../src/shared/protocol.js';
import { apiClient, signUp, uniqueName, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';

const HOUR_MS = 60 * 60 * 1000;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe.each(DIALECTS)('rooms on %s', (dialect) => {
  const t = useTestApp(dialect);

  // ---- a tiny client and factories ----
  const { get, post, createRoom, join: joinById, createInvite, send: sendMessage } = apiClient(() => t.app);
  const roomName = (prefix = 'Room') => uniqueName(prefix);
  async function myRooms(session: Session): Promise<Room[]> {
    const response = await get(session, '/api/v1/rooms');
    expect(response.statusCode).toBe(200);
    return response.json() as Room[];
  }
  async function myRoom(session: Session, roomId: string): Promise<Room | undefined> {
    return (await myRooms(session)).find((room) => room.id === roomId);
  }
  const countRooms = async () =>
    Number((await t.database.db.selectFrom('rooms').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const countMemberships = async () =>
    Number((await t.database.db.selectFrom('room_members').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const makeModerator = (roomId: string, userId: string) =>
    // No endpoint hands out the moderator role yet; set it the way an owner action would.
    t.database.db.updateTable('room_members').set({ role: 'moderator' }).where('room_id', '=', roomId).where('user_id', '=', userId).execute();

  describe('listing my rooms', () => {
    it('shows a new user exactly General, with the full room shape', async () => {
      const session = await signUp(t.app);
      const rooms = await myRooms(session);
      expect(rooms).toEqual([
        {
          id: expect.any(String),
          name: 'General',
          kind: 'room',
          description: expect.any(String),
          isPrivate: false,
          role: expect.stringMatching(/^(owner|member)$/),
          lastSeq: expect.any(Number),
          memberCount: expect.any(Number),
          lastReadSeq: 0,
          unreadCount: expect.any(Number),
          mentionCount: 0,
          notificationLevel: 'all',
        },
      ]);
      expect(rooms[0]!.memberCount).toBeGreaterThanOrEqual(1);
    });

    it('lists only the rooms the caller belongs to', async () => {
      const alice = await signUp(t.app);
      const bob = await signUp(t.app);
      const alicesPublic = await createRoom(alice);
      const alicesPrivate = await createRoom(alice, { isPrivate: true });
      const bobs = await createRoom(bob);
      const ids = (await myRooms(alice)).map((room) => room.id);
      expect(ids).toEqual(expect.arrayContaining([alicesPublic.id, alicesPrivate.id]));
      expect(ids).not.toContain(bobs.id);
      expect((await myRooms(bob)).map((room) => room.id)).not.toContain(alicesPrivate.id);
    });
  });

  describe('creating a room', () => {
    it('creates a public room owned by its creator, with the name trimmed', async () => {
      const owner = await signUp(t.app);
      const name = roomName('Trim');
      const response = await post(owner, '/api/v1/rooms', { name: `   ${name}  `, description: 'Talk about plants' });
      expect(response.statusCode).toBe(201);
      const { room } = response.json() as { room: Room };
      expect(room).toMatchObject({
        id: expect.any(String),
        name,
        description: 'Talk about plants',
        isPrivate: false,
        role: 'owner',
        lastSeq: 0,
        memberCount: 1,
      });
      expect(await myRoom(owner, room.id)).toMatchObject({ name, role: 'owner', lastSeq: 0, memberCount: 1, lastReadSeq: 0 });
    });

    it('creates a private room when asked, with an empty description by default', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      expect(room).toMatchObject({ isPrivate: true, role: 'owner', description: '' });
    });

    it('stores the description only as ciphertext', async () => {
      const owner = await signUp(t.app);
      const description = `secret plans ${randomUUID()}`;
      const room = await createRoom(owner, { description });
      const row = await t.database.db.selectFrom('rooms').selectAll().where('id', '=', room.id).executeTakeFirstOrThrow();
      expect(row.description_ciphertext).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
      expect(JSON.stringify(row)).not.toContain(description);
      expect((await get(owner, `/api/v1/rooms/${room.id}`)).json().room.description).toBe(description);
    });

    it('accepts names of exactly 3 and 64 characters', async () => {
      const owner = await signUp(t.app);
      const short = `${Math.random().toString(36).slice(2, 5)}`.padEnd(3, 'x');
      const long = `${uniqueName('L')}`.padEnd(64, 'x');
      expect((await post(owner, '/api/v1/rooms', { name: short })).statusCode).toBe(201);
      expect((await post(owner, '/api/v1/rooms', { name: long })).statusCode).toBe(201);
    });

    it('rejects a name taken in another case with 409 room_name_taken', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const other = await signUp(t.app);
      const before = await countRooms();
      const response = await post(other, '/api/v1/rooms', { name: room.name.toUpperCase() });
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toMatchObject({ code: 'room_name_taken', field: 'name', message: expect.any(String) });
      expect(await countRooms()).toBe(before);
    });

    it('treats General as taken, in any case', async () => {
      const owner = await signUp(t.app);
      const response = await post(owner, '/api/v1/rooms', { name: ' gENERAL ' });
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toMatchObject({ code: 'room_name_taken', field: 'name' });
    });

    const rejections: Array<[string, unknown, string]> = [
      ['a name of 2 characters after trimming', { name: '   ab   ' }, 'name'],
      ['a blank name', { name: '      ' }, 'name'],
      ['a name of 65 characters', { name: 'n'.repeat(65) }, 'name'],
      ['a missing name', { description: 'no name' }, 'name'],
      ['a name that is not a string', { name: 12345 }, 'name'],
      ['a description of 501 characters', { name: 'Long description room', description: 'd'.repeat(501) }, 'description'],
      ['a description that is not a string', { name: 'Numeric description', description: 7 }, 'description'],
      ['isPrivate that is not a boolean', { name: 'Maybe private', isPrivate: 'yes' }, 'isPrivate'],
    ];
    it.each(rejections)('rejects %s with 400 naming the field, and creates nothing', async (_case, body, field) => {
      const owner = await signUp(t.app);
      const before = await countRooms();
      const response = await post(owner, '/api/v1/rooms', body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', field, message: expect.any(String) });
      expect(await countRooms()).toBe(before);
    });

    it('requires the CSRF token with the session cookie', async () => {
      const owner = await signUp(t.app);
      const before = await countRooms();
      const response = await t.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: { cookie: owner.cookie }, payload: { name: roomName() } });
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('csrf_failed');
      expect(await countRooms()).toBe(before);
    });
  });

  describe('the directory', () => {
    it('finds public rooms whose name contains the query, in any case, and never private ones', async () => {
      const owner = await signUp(t.app);
      const token = Math.random().toString(36).slice(2, 8);
      const garden = await createRoom(owner, { name: `${token} Garden` });
      const club = await createRoom(owner, { name: `The ${token} GARDEN club` });
      await createRoom(owner, { name: `${token} garden secret`, isPrivate: true });
      await createRoom(owner, { name: `${token} kitchen` });

      const stranger = await signUp(t.app);
      const response = await get(stranger, `/api/v1/rooms/directory?q=${encodeURIComponent(`${token.toUpperCase()} gArDeN`)}`);
      expect(response.statusCode).toBe(200);
      const found = response.json() as Room[];
      expect(found.map((room) => room.id).sort()).toEqual([garden.id, club.id].sort());
      for (const room of found) {
        expect(room).toMatchObject({ isPrivate: false, role: null, memberCount: 1, lastSeq: 0, description: expect.any(String) });
      }
    });

    it('never lists a private room, even to its owner', async () => {
      const owner = await signUp(t.app);
      const hidden = await createRoom(owner, { isPrivate: true });
      const found = (await get(owner, `/api/v1/rooms/directory?q=${encodeURIComponent(hidden.name)}`)).json() as Room[];
      expect(found).toEqual([]);
    });

    it('shows the caller’s role in rooms they belong to', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const member = await signUp(t.app);
      await joinById(member, room.id);
      const asOwner = (await get(owner, `/api/v1/rooms/directory?q=${encodeURIComponent(room.name)}`)).json() as Room[];
      const asMember = (await get(member, `/api/v1/rooms/directory?q=${encodeURIComponent(room.name)}`)).json() as Room[];
      expect(asOwner).toEqual([expect.objectContaining({ id: room.id, role: 'owner', memberCount: 2 })]);
      expect(asMember).toEqual([expect.objectContaining({ id: room.id, role: 'member', memberCount: 2 })]);
    });

    it('finds General', async () => {
      const session = await signUp(t.app);
      const found = (await get(session, '/api/v1/rooms/directory?q=general')).json() as Room[];
      expect(found.map((room) => room.name)).toContain('General');
    });

    it('lists public rooms with an empty query, or none', async () => {
      const session = await signUp(t.app);
      await createRoom(session, { isPrivate: true });
      for (const url of ['/api/v1/rooms/directory', '/api/v1/rooms/directory?q=']) {
        const response = await get(session, url);
        expect(response.statusCode, url).toBe(200);
        const rooms = response.json() as Room[];
        expect(rooms.length).toBeGreaterThan(0);
        expect(rooms.every((room) => room.isPrivate === false)).toBe(true);
      }
    });

    it('takes the query literally: % and _ are not wildcards', async () => {
      const session = await signUp(t.app);
      await createRoom(session, { name: 'percent free room' });
      const percent = await get(session, '/api/v1/rooms/directory?q=%25');
      expect(percent.statusCode).toBe(200);
      expect(percent.json()).toEqual([]);
    });
  });

  describe('joining a public room', () => {
    it('joins by name in any case and answers the room with role member', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { name: roomName('ByName') });
      const joiner = await signUp(t.app);
      const response = await post(joiner, '/api/v1/rooms/join', { name: `  ${room.name.toLowerCase()} ` });
      expect(response.statusCode).toBe(200);
      expect(response.json().room).toMatchObject({ id: room.id, name: room.name, role: 'member', memberCount: 2 });
      expect(await myRoom(joiner, room.id)).toMatchObject({ role: 'member', memberCount: 2 });
    });

    it('joins by id', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const joiner = await signUp(t.app);
      const response = await post(joiner, `/api/v1/rooms/${room.id}/join`);
      expect(response.statusCode).toBe(200);
      expect(response.json().room).toMatchObject({ id: room.id, role: 'member', memberCount: 2 });
      expect(await myRoom(joiner, room.id)).toBeDefined();
    });

    it('answers a private room’s name exactly like an unknown name: 404, and no membership', async () => {
      const owner = await signUp(t.app);
      const hidden = await createRoom(owner, { isPrivate: true });
      const stranger = await signUp(t.app);
      const before = await countMemberships();
      const privateAnswer = await post(stranger, '/api/v1/rooms/join', { name: hidden.name });
      const unknownAnswer = await post(stranger, '/api/v1/rooms/join', { name: roomName('Nowhere') });
      expect(privateAnswer.statusCode).toBe(404);
      expect(unknownAnswer.statusCode).toBe(404);
      expect(privateAnswer.json().error.code).toBe(unknownAnswer.json().error.code);
      expect(privateAnswer.json().error.message).not.toContain(hidden.name);
      expect(await countMemberships()).toBe(before);
      expect(await myRoom(stranger, hidden.id)).toBeUndefined();
    });

    it('refuses to join a private room by id with 404, like an unknown id', async () => {
      const owner = await signUp(t.app);
      const hidden = await createRoom(owner, { isPrivate: true });
      const stranger = await signUp(t.app);
      const before = await countMemberships();
      const privateAnswer = await post(stranger, `/api/v1/rooms/${hidden.id}/join`);
      const unknownAnswer = await post(stranger, `/api/v1/rooms/${randomUUID()}/join`);
      expect(privateAnswer.statusCode).toBe(404);
      expect(unknownAnswer.statusCode).toBe(404);
      expect(privateAnswer.json().error.code).toBe(unknownAnswer.json().error.code);
      expect(await countMemberships()).toBe(before);
    });

    it.each([
      ['a missing name', {}],
      ['a name that is not a string', { name: 42 }],
    ])('rejects join by name with %s: 400 on field name, and joins nothing', async (_case, body) => {
      const session = await signUp(t.app);
      const before = await countMemberships();
      const response = await post(session, '/api/v1/rooms/join', body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', field: 'name' });
      expect(await countMemberships()).toBe(before);
    });
  });

  describe('leaving', () => {
    it('removes the caller from the room: 204, gone from the list, one member fewer', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const member = await signUp(t.app);
      await joinById(member, room.id);
      const response = await post(member, `/api/v1/rooms/${room.id}/leave`);
      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(await myRoom(member, room.id)).toBeUndefined();
      expect(await myRoom(owner, room.id)).toMatchObject({ memberCount: 1 });
      expect((await get(member, `/api/v1/rooms/${room.id}`)).json().room).toMatchObject({ id: room.id, role: null });
    });

    it('lets a member leave a private room, after which it is invisible to them', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const invite = await createInvite(owner, room.id);
      const member = await signUp(t.app);
      expect((await post(member, `/api/v1/invites/${invite.code}/accept`)).statusCode).toBe(200);
      expect((await post(member, `/api/v1/rooms/${room.id}/leave`)).statusCode).toBe(204);
      expect(await myRoom(member, room.id)).toBeUndefined();
      expect((await get(member, `/api/v1/rooms/${room.id}`)).statusCode).toBe(404);
    });
  });

  describe('one room', () => {
    it('shows a member the room with their role', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { description: 'About things' });
      const response = await get(owner, `/api/v1/rooms/${room.id}`);
      expect(response.statusCode).toBe(200);
      expect(response.json().room).toMatchObject({ id: room.id, name: room.name, description: 'About things', role: 'owner', isPrivate: false });
    });

    it('shows a public room to anyone signed in, with role null', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const stranger = await signUp(t.app);
      const response = await get(stranger, `/api/v1/rooms/${room.id}`);
      expect(response.statusCode).toBe(200);
      expect(response.json().room).toMatchObject({ id: room.id, name: room.name, role: null, memberCount: 1 });
    });

    it('hides a private room from a non-member with the same 404 as an unknown id', async () => {
      const owner = await signUp(t.app);
      const hidden = await createRoom(owner, { isPrivate: true, description: 'top secret' });
      const stranger = await signUp(t.app);
      const privateAnswer = await get(stranger, `/api/v1/rooms/${hidden.id}`);
      const unknownAnswer = await get(stranger, `/api/v1/rooms/${randomUUID()}`);
      expect(privateAnswer.statusCode).toBe(404);
      expect(unknownAnswer.statusCode).toBe(404);
      expect(privateAnswer.json().error.code).toBe(unknownAnswer.json().error.code);
      expect(privateAnswer.body).not.toContain(hidden.name);
      expect(privateAnswer.body).not.toContain('top secret');
    });

    it.each([
      ['a long id', 'x'.repeat(300)],
      ['an id with quotes', encodeURIComponent("1' OR '1'='1")],
      ['a non-ASCII id', encodeURIComponent('☃')],
      ['a badly percent-encoded id', '%E0%A4%A'],
    ])('answers %s with a 4xx in the API’s error shape, never a server error', async (_case, id) => {
      const session = await signUp(t.app);
      for (const [method, path] of [
        ['GET', `/api/v1/rooms/${id}`],
        ['GET', `/api/v1/rooms/${id}/members`],
        ['POST', `/api/v1/rooms/${id}/join`],
        ['GET', `/api/v1/rooms/${id}/messages`],
        ['POST', `/api/v1/invites/${id}/accept`],
      ] as const) {
        const response = method === 'GET' ? await get(session, path) : await post(session, path);
        expect([400, 404, 414], `${method} ${path}: ${response.statusCode}`).toContain(response.statusCode);
        expect(response.json(), `${method} ${path}`).toMatchObject({ error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) } });
      }
    });
  });

  describe('members', () => {
    it('lists the members with their public user, role and online status', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const member = await signUp(t.app);
      await joinById(member, room.id);
      const response = await get(member, `/api/v1/rooms/${room.id}/members`);
      expect(response.statusCode).toBe(200);
      const members = response.json() as Member[];
      expect(members).toHaveLength(2);
      expect(members).toEqual(
        expect.arrayContaining([
          { user: owner.user, role: 'owner', online: false },
          { user: member.user, role: 'member', online: false },
        ]),
      );
      expect(JSON.stringify(members)).not.toContain('@example.com');
    });

    it('refuses a non-member of a public room with 403 not_member', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const stranger = await signUp(t.app);
      const response = await get(stranger, `/api/v1/rooms/${room.id}/members`);
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('not_member');
    });

    it('answers a non-member of a private room with 404', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const stranger = await signUp(t.app);
      const response = await get(stranger, `/api/v1/rooms/${room.id}/members`);
      expect(response.statusCode).toBe(404);
      expect(response.body).not.toContain(owner.user.username);
    });
  });

  describe('invites', () => {
    it('gives the owner a code, a link ending in /invite/<code>, the expiry and max uses', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const response = await post(owner, `/api/v1/rooms/${room.id}/invites`, { expiresInHours: 2, maxUses: 5 });
      expect(response.statusCode).toBe(201);
      const invite = response.json() as Invite;
      expect(invite).toEqual({ id: expect.any(String), code: expect.any(String), url: expect.any(String), expiresAt: expect.stringMatching(ISO), maxUses: 5 });
      expect(invite.code.length).toBeGreaterThanOrEqual(8);
      expect(invite.url.endsWith(`/invite/${invite.code}`)).toBe(true);
      expect(Date.parse(invite.expiresAt!)).toBe(t.clock.now() + 2 * HOUR_MS);
    });

    it('stores only a hash of the code', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const invite = await createInvite(owner, room.id);
      const rows = await t.database.db.selectFrom('room_invites').selectAll().where('room_id', '=', room.id).execute();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(invite.code);
    });

    it('lets a moderator invite', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const moderator = await signUp(t.app);
      await post(moderator, `/api/v1/invites/${(await createInvite(owner, room.id)).code}/accept`);
      await makeModerator(room.id, moderator.user.id);
      expect((await post(moderator, `/api/v1/rooms/${room.id}/invites`, {})).statusCode).toBe(201);
    });

    it('refuses a plain member with 403', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const member = await signUp(t.app);
      await joinById(member, room.id);
      const response = await post(member, `/api/v1/rooms/${room.id}/invites`, {});
      expect(response.statusCode).toBe(403);
      expect(await t.database.db.selectFrom('room_invites').selectAll().where('room_id', '=', room.id).execute()).toEqual([]);
    });

    it('answers a non-member of a private room with 404', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const stranger = await signUp(t.app);
      expect((await post(stranger, `/api/v1/rooms/${room.id}/invites`, {})).statusCode).toBe(404);
    });

    it.each([
      ['a negative maxUses', { maxUses: -1 }, 'maxUses'],
      ['a maxUses that is not a number', { maxUses: 'many' }, 'maxUses'],
      ['a negative expiresInHours', { expiresInHours: -3 }, 'expiresInHours'],
      ['an expiresInHours that is not a number', { expiresInHours: 'soon' }, 'expiresInHours'],
    ])('rejects %s with 400 naming the field, and creates no invite', async (_case, body, field) => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const response = await post(owner, `/api/v1/rooms/${room.id}/invites`, body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', field });
      expect(await t.database.db.selectFrom('room_invites').selectAll().where('room_id', '=', room.id).execute()).toEqual([]);
    });

    it('makes whoever accepts a member of the private room', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const invite = await createInvite(owner, room.id);
      const guest = await signUp(t.app);
      const response = await post(guest, `/api/v1/invites/${invite.code}/accept`);
      expect(response.statusCode).toBe(200);
      expect(response.json().room).toMatchObject({ id: room.id, name: room.name, isPrivate: true, role: 'member', memberCount: 2 });
      expect(await myRoom(guest, room.id)).toMatchObject({ role: 'member' });
      const members = (await get(owner, `/api/v1/rooms/${room.id}/members`)).json() as Member[];
      expect(members.map((m) => m.user.id).sort()).toEqual([owner.user.id, guest.user.id].sort());
    });

    it('answers an unknown code with 404', async () => {
      const guest = await signUp(t.app);
      const before = await countMemberships();
      const response = await post(guest, `/api/v1/invites/${randomUUID().replace(/-/g, '')}/accept`);
      expect(response.statusCode).toBe(404);
      expect(await countMemberships()).toBe(before);
    });

    it('refuses an expired invite with 410 invite_expired', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const invite = await createInvite(owner, room.id, { expiresInHours: 1 });
      const guest = await signUp(t.app);
      t.clock.advance(HOUR_MS + 1000);
      const response = await post(guest, `/api/v1/invites/${invite.code}/accept`);
      expect(response.statusCode).toBe(410);
      expect(response.json().error.code).toBe('invite_expired');
      expect(await myRoom(guest, room.id)).toBeUndefined();
    });

    it('refuses an invite whose uses are used up with 410 invite_used_up', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const invite = await createInvite(owner, room.id, { maxUses: 1 });
      const first = await signUp(t.app);
      const second = await signUp(t.app);
      expect((await post(first, `/api/v1/invites/${invite.code}/accept`)).statusCode).toBe(200);
      const response = await post(second, `/api/v1/invites/${invite.code}/accept`);
      expect(response.statusCode).toBe(410);
      expect(response.json().error.code).toBe('invite_used_up');
      expect(await myRoom(second, room.id)).toBeUndefined();
    });

    it('answers a member accepting again with 200 without using up a use', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const invite = await createInvite(owner, room.id, { maxUses: 2 });
      const first = await signUp(t.app);
      const second = await signUp(t.app);
      const third = await signUp(t.app);
      expect((await post(owner, `/api/v1/invites/${invite.code}/accept`)).statusCode).toBe(200);
      expect((await post(first, `/api/v1/invites/${invite.code}/accept`)).statusCode).toBe(200);
      const again = await post(first, `/api/v1/invites/${invite.code}/accept`);
      expect(again.statusCode).toBe(200);
      expect(again.json().room).toMatchObject({ id: room.id, role: 'member' });
      expect((await post(second, `/api/v1/invites/${invite.code}/accept`)).statusCode).toBe(200);
      expect((await post(third, `/api/v1/invites/${invite.code}/accept`)).statusCode).toBe(410);
      expect(await myRoom(owner, room.id)).toMatchObject({ role: 'owner', memberCount: 3 });
    });

    it('lets only one of many concurrent guests take the last use', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const invite = await createInvite(owner, room.id, { maxUses: 1 });
      const guests = await Promise.all(Array.from({ length: 6 }, () => signUp(t.app)));
      const answers = await Promise.all(guests.map((guest) => post(guest, `/api/v1/invites/${invite.code}/accept`)));
      expect(answers.map((a) => a.statusCode).sort((a, b) => a - b)).toEqual([200, 410, 410, 410, 410, 410]);
      expect(await myRoom(owner, room.id)).toMatchObject({ memberCount: 2 });
    });
  });

  describe('read markers', () => {
    it('records the last read seq, shown as lastReadSeq next to lastSeq', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      // Someone else writes: one's own messages move one's marker (messages.test.ts).
      const member = await signUp(t.app);
      await joinById(member, room.id);
      for (const body of ['one', 'two', 'three']) await sendMessage(member, room.id, body);
      expect(await myRoom(owner, room.id)).toMatchObject({ lastSeq: 3, lastReadSeq: 0 });
      const response = await post(owner, `/api/v1/rooms/${room.id}/read`, { seq: 2 });
      expect(response.statusCode).toBe(204);
      expect(await myRoom(owner, room.id)).toMatchObject({ lastSeq: 3, lastReadSeq: 2 });
    });

    it('keeps read markers per user', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const member = await signUp(t.app);
      await joinById(member, room.id);
      await sendMessage(owner, room.id, 'hello');
      await post(owner, `/api/v1/rooms/${room.id}/read`, { seq: 1 });
      expect(await myRoom(owner, room.id)).toMatchObject({ lastReadSeq: 1 });
      expect(await myRoom(member, room.id)).toMatchObject({ lastSeq: 1, lastReadSeq: 0 });
    });

    it.each([
      ['a missing seq', {}],
      ['a seq that is not a number', { seq: 'two' }],
      ['a negative seq', { seq: -1 }],
    ])('rejects %s with 400 on field seq, and changes nothing', async (_case, body) => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const member = await signUp(t.app);
      await joinById(member, room.id);
      await sendMessage(member, room.id, 'hello');
      const response = await post(owner, `/api/v1/rooms/${room.id}/read`, body);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', field: 'seq' });
      expect(await myRoom(owner, room.id)).toMatchObject({ lastReadSeq: 0 });
    });

    it('answers a non-member of a private room with 404', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner, { isPrivate: true });
      const stranger = await signUp(t.app);
      expect((await post(stranger, `/api/v1/rooms/${room.id}/read`, { seq: 0 })).statusCode).toBe(404);
    });
  });

  describe('when signed out', () => {
    let roomId: string;
    beforeAll(async () => {
      roomId = (await createRoom(await signUp(t.app))).id;
    });

    it.each([
      ['GET', '/api/v1/rooms'],
      ['GET', '/api/v1/rooms/directory?q=general'],
      ['POST', '/api/v1/rooms'],
      ['POST', '/api/v1/rooms/join'],
      ['POST', '/api/v1/rooms/:roomId/join'],
      ['POST', '/api/v1/rooms/:roomId/leave'],
      ['GET', '/api/v1/rooms/:roomId'],
      ['GET', '/api/v1/rooms/:roomId/members'],
      ['POST', '/api/v1/rooms/:roomId/invites'],
      ['POST', '/api/v1/invites/some-code/accept'],
      ['POST', '/api/v1/rooms/:roomId/read'],
    ] as const)('answers %s %s with 401', async (method, path) => {
      const before = await countMemberships();
      const response = await t.app.inject({
        method,
        url: path.replace(':roomId', roomId),
        ...(method === 'POST' ? { payload: {} } : {}),
      });
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('auth_required');
      expect(await countMemberships()).toBe(before);
    });
  });
});
