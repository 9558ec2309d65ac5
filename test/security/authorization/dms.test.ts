/**
 * The matrix on a direct message: the owner O and the plain member M share a DM. Every
 * room row of rows.ts, sent to the DM by everyone outside it (every signed-in caller of
 * the world, and R's and P's own moderators and bystander), is a 404 byte-for-byte like a
 * room that does not exist; the DM's members get their reads and sends, and a clear 403
 * for the room-only rows (invites, roles, moderation). No socket outside the DM hears of
 * it — neither its creation nor its messages.
 */
import { describe, expect, it } from 'vitest';
import type { Room } from '../../../src/shared/protocol.js';
import { DIALECTS } from '../../support/databases.js';
import { answerProblems, HIDDEN, ok, refused, SIGNED_IN_KINDS, type Expectation } from './kit.js';
import { ROOM_ROWS } from './rows.js';
import { useWorld } from './world.js';
import { storedUpload } from '../../support/stored-uploads.js';

/** What a DM member gets for each row key (rows not named: as a plain member of a room). */
const FOR_MEMBERS: Record<string, Expectation | 'skip'> = {
  'POST /api/v1/rooms/:roomId/join': ok(200),
  'POST /api/v1/rooms/:roomId/leave': 'skip',
  'POST /api/v1/rooms/:roomId/invites': refused(403, 'forbidden'),
  'GET /api/v1/rooms/:roomId/invites': refused(403, 'forbidden'),
  'DELETE /api/v1/rooms/:roomId/invites/:inviteId': refused(403, 'forbidden'),
  'POST /api/v1/rooms/:roomId/members/:userId/remove': refused(403, 'forbidden'),
  'PUT /api/v1/rooms/:roomId/bans/:userId': refused(403, 'forbidden'),
  'DELETE /api/v1/rooms/:roomId/bans/:userId': refused(403, 'forbidden'),
  'PUT /api/v1/rooms/:roomId/members/:userId/role': refused(403, 'forbidden'),
  // Aimed at a room's owner's and bystander's notes, which a DM does not have: the test below covers a DM's messages.
  'PATCH /api/v1/rooms/:roomId/messages/:seq': 'skip',
  'DELETE /api/v1/rooms/:roomId/messages/:seq': 'skip',
  'PUT /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji': 'skip',
  'DELETE /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji': 'skip',
};

describe.each(DIALECTS)('the authorization matrix on a DM, on %s', (dialect) => {
  const stage = useWorld(dialect, { perTest: true });

  async function openDm(): Promise<{ dm: Room; mark: string }> {
    const { world, kit } = stage;
    const dm = (await kit.post(world.O, '/api/v1/dms', { userIds: [world.M.user.id] }, 201)).json().room as Room;
    const mark = `dm-secret-${dm.id}`;
    await kit.sendHttp(world.M, dm, mark);
    // Its members' uploads, for the rows that send one.
    world.uploads[dm.id] = {};
    for (const session of [world.O, world.M]) world.uploads[dm.id]![session.user.id] = (await storedUpload(stage.t, { roomId: dm.id, uploaderId: session.user.id })).id;
    return { dm, mark };
  }

  it('answers everyone outside the DM 404 on every room row, exactly like a room that does not exist', async () => {
    const { world, kit } = stage;
    const { dm, mark } = await openDm();
    const outsiders = [...SIGNED_IN_KINDS.map((kind) => world.callers[kind].session!), world.D, world.T];
    const unknown: Room = { ...dm, id: world.unknownRoomId };
    const problems: string[] = [];
    for (const session of outsiders) {
      for (const row of ROOM_ROWS) {
        const probe = row.probe(dm, world, session);
        const response = await kit.call(session, probe);
        const reference = await kit.call(session, row.probe(unknown, world, session));
        const where = `${session.user.username}: ${probe.method} ${probe.url}`;
        problems.push(...answerProblems(response, HIDDEN, probe.method).map((p) => `${where}: ${p}`));
        if (response.body !== reference.body) problems.push(`${where}: answers differently from an unknown room`);
        if (response.body.includes(mark)) problems.push(`${where}: the answer holds the DM's message`);
      }
      const rooms = await kit.call(session, { method: 'GET', url: '/api/v1/rooms' });
      if (rooms.body.includes(dm.id)) problems.push(`${session.user.username}: GET /rooms lists the DM`);
    }
    expect(problems).toEqual([]);
    const senders = await stage.t.database.db.selectFrom('messages').select('sender_id').where('room_id', '=', dm.id).execute();
    expect(senders.map((s) => s.sender_id)).toEqual([world.M.user.id]);
    const members = await stage.t.database.db.selectFrom('room_members').select(['user_id', 'role']).where('room_id', '=', dm.id).execute();
    expect(members.map((m) => `${m.user_id}:${m.role}`).sort()).toEqual([`${world.M.user.id}:member`, `${world.O.user.id}:member`].sort());
  });

  it('answers the DM’s members their reads and sends, and 403 for invites, roles and moderation', async () => {
    const { world, kit } = stage;
    const { dm } = await openDm();
    const problems: string[] = [];
    for (const session of [world.O, world.M]) {
      for (const row of ROOM_ROWS) {
        const expected = FOR_MEMBERS[row.key] ?? row.member;
        if (expected === 'skip') continue;
        const probe = row.probe(dm, world, session);
        const response = await kit.call(session, probe);
        problems.push(...answerProblems(response, expected, probe.method).map((p) => `${session.user.username}: ${probe.method} ${probe.url}: ${p}`));
      }
    }
    expect(problems).toEqual([]);
  });

  it('lets a DM member edit and delete only their own messages (nobody moderates a DM), and react to any', async () => {
    const { world, kit } = stage;
    const { dm } = await openDm();
    const seq = 1; // M's message
    const at = (path: string) => `/api/v1/rooms/${dm.id}/messages/${seq}${path}`;
    const problems: string[] = [];
    const check = async (session: typeof world.O, probe: Parameters<typeof kit.call>[1], expected: Expectation) => {
      const response = await kit.call(session, probe);
      problems.push(...answerProblems(response, expected, probe.method).map((p) => `${session.user.username}: ${probe.method} ${probe.url}: ${p}`));
    };
    await check(world.O, { method: 'PATCH', url: at(''), payload: { body: 'not yours' } }, refused(403, 'forbidden'));
    await check(world.O, { method: 'DELETE', url: at('') }, refused(403, 'forbidden'));
    await check(world.O, { method: 'PUT', url: at(`/reactions/${encodeURIComponent('👍')}`) }, ok(204));
    await check(world.M, { method: 'PATCH', url: at(''), payload: { body: 'mine, edited' } }, ok(200));
    await check(world.M, { method: 'DELETE', url: at('') }, ok(204));
    expect(problems).toEqual([]);
  });

  it('tells no socket outside the DM of it: neither its creation nor its messages', async () => {
    const { world } = stage;
    const { dm, mark } = await openDm();
    await stage.barrier();
    for (const listener of world.listeners) {
      const heard = listener.client.frames.filter((frame) => JSON.stringify(frame).includes(dm.id) || JSON.stringify(frame).includes(mark));
      expect(heard, listener.label).toEqual([]);
    }
    // And the members' own sockets did hear it.
    expect(world.ownerSocket.frames.some((f) => f.type === 'dm' && f.room.id === dm.id)).toBe(true);
    expect(world.memberSocket.frames.some((f) => f.type === 'message' && f.message.body === mark)).toBe(true);
  });
});
