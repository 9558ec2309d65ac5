/**
 * Replies, @mentions, room-list counts and notification levels (api.md "Messages: replies,
 * mentions…"), on SQLite and PostgreSQL, over HTTP and the socket.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Message, Room } from '../../src/shared/protocol.js';
import { apiClient, as, listenOnLoopback, signUp, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { myRooms } from '../support/factories.js';
import { closedAfterEach, connectWs } from '../support/ws-client.js';
import { isAck, isError, isMessageId, type Frame } from '../support/frames.js';

describe.each(DIALECTS)('replies and mentions on %s', (dialect) => {
  const t = useTestApp(dialect);
  const { post, createRoom, join, send, readPage } = apiClient(() => t.app);
  const sockets = closedAfterEach();
  let base: string;
  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
  });
  const sendRaw = (session: Session, roomId: string, payload: object) => post(session, `/api/v1/rooms/${roomId}/messages`, payload);
  const put = (session: Session | null, url: string, payload: unknown) =>
    t.app.inject({ method: 'PUT', url, headers: session ? as(session) : {}, payload: payload as object });
  const stored = async (roomId: string) =>
    Number((await t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow()).n);
  const entry = async (session: Session, roomId: string): Promise<Room> => (await myRooms(t.app, session)).find((room) => room.id === roomId)!;

  async function roomOf(...extra: number[]) {
    const alice = await signUp(t.app);
    const room = await createRoom(alice);
    const others: Session[] = [];
    for (const _ of extra) {
      const other = await signUp(t.app);
      await join(other, room.id);
      others.push(other);
    }
    return { alice, room, others };
  }

  describe('replies', () => {
    it('stores replyTo and shows the original’s sender and excerpt on the answer, the newest page and ?after=', async () => {
      const { alice, room, others: [bob] } = await roomOf(1);
      const original = await send(alice, room.id, `  first line\n${'x'.repeat(300)}`);
      const response = await sendRaw(bob!, room.id, { body: 'agreed', clientId: randomUUID(), replyTo: original.seq });
      expect(response.statusCode).toBe(201);
      const reply: Message = response.json().message;
      const expected = { seq: original.seq, sender: { id: alice.user.id, username: alice.user.username }, excerpt: expect.stringMatching(/^first line x+…$/) };
      expect(reply.replyTo).toEqual(expected);
      expect([...reply.replyTo!.excerpt].length).toBe(140);
      const newest = await readPage(alice, room.id);
      expect(newest.messages.find((m) => m.seq === reply.seq)!.replyTo).toEqual(expected);
      expect(newest.messages.find((m) => m.seq === original.seq)!.replyTo).toBeUndefined();
      const after = await readPage(alice, room.id, `?after=${original.seq}`);
      expect(after.messages.map((m) => m.replyTo)).toEqual([expected]);
    });

    it('refuses a replyTo of another room or of no message (400, nothing stored)', async () => {
      const { alice, room } = await roomOf();
      const elsewhere = await createRoom(alice);
      const foreign = await send(alice, elsewhere.id, 'in another room');
      await send(alice, room.id, 'one');
      for (const replyTo of [foreign.seq + 5, 999]) {
        const response = await sendRaw(alice, room.id, { body: 'answer', clientId: randomUUID(), replyTo });
        expect(response.statusCode).toBe(400);
        expect(response.json().error).toMatchObject({ code: 'validation_failed', field: 'replyTo' });
      }
      // Seq 2 exists only in the other room.
      await send(alice, elsewhere.id, 'two there');
      const response = await sendRaw(alice, room.id, { body: 'answer', clientId: randomUUID(), replyTo: 2 });
      expect(response.statusCode).toBe(400);
      for (const replyTo of [0, -1, 'one', 1.5]) {
        expect((await sendRaw(alice, room.id, { body: 'answer', clientId: randomUUID(), replyTo })).statusCode).toBe(400);
      }
      expect(await stored(room.id)).toBe(1);
    });

    it('carries replyTo over the socket: the ack and every member’s frame have the excerpt; a bad one is an error frame', async () => {
      const { alice, room, others: [bob] } = await roomOf(1);
      const original = await send(alice, room.id, 'socket original');
      const aliceSocket = await connectWs(base, { cookie: alice.cookie });
      const bobSocket = await connectWs(base, { cookie: bob!.cookie });
      sockets.push(aliceSocket, bobSocket);
      const clientId = randomUUID();
      bobSocket.send({ type: 'send', roomId: room.id, body: 'over the socket', clientId, replyTo: original.seq });
      const ack = await bobSocket.waitFor<Frame<'ack'>>(isAck(clientId));
      const frame = await aliceSocket.waitFor<Frame<'message'>>(isMessageId(ack.message.id));
      for (const message of [ack.message, frame.message]) {
        expect(message.replyTo).toEqual({ seq: original.seq, sender: { id: alice.user.id, username: alice.user.username }, excerpt: 'socket original' });
      }
      const bad = randomUUID();
      bobSocket.send({ type: 'send', roomId: room.id, body: 'nowhere', clientId: bad, replyTo: 77 });
      const error = await bobSocket.waitFor<Frame<'error'>>(isError(bad));
      expect(error.error).toMatchObject({ code: 'validation_failed', field: 'replyTo' });
      expect(await stored(room.id)).toBe(2);
    });

    it('shows a deleted original as "" and deleted: true', async () => {
      const { alice, room } = await roomOf();
      const original = await send(alice, room.id, 'soon gone');
      const reply = await sendRaw(alice, room.id, { body: 'answer', clientId: randomUUID(), replyTo: original.seq });
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/messages/${original.seq}`, headers: as(alice) })).statusCode).toBe(204);
      const page = await readPage(alice, room.id);
      expect(page.messages.find((m) => m.seq === reply.json().message.seq)!.replyTo).toEqual({
        seq: original.seq, sender: { id: alice.user.id, username: alice.user.username }, excerpt: '', deleted: true,
      });
    });
  });

  describe('mentions', () => {
    it('names members only, case-insensitively, with a trailing . or , ending the name', async () => {
      const { alice, room, others: [bob, carol] } = await roomOf(1, 1);
      const outsider = await signUp(t.app);
      const body = `@${bob!.user.username.toUpperCase()}, and @${carol!.user.username}. and @${outsider.user.username} and mail@${bob!.user.username} @nobody_here`;
      const message = await send(alice, room.id, body);
      expect([...message.mentions].sort()).toEqual([bob!.user.id, carol!.user.id].sort());
      const page = await readPage(bob!, room.id);
      expect([...page.messages.at(-1)!.mentions].sort()).toEqual([bob!.user.id, carol!.user.id].sort());
      expect((await send(alice, room.id, 'no one')).mentions).toEqual([]);
    });

    it('follows an edit (the new text names whom it mentions) and leaves with a delete, in the message and the counts', async () => {
      const { alice, room, others: [bob, carol] } = await roomOf(1, 1);
      const message = await send(alice, room.id, `@${bob!.user.username} look`);
      expect(await entry(bob!, room.id)).toMatchObject({ mentionCount: 1 });
      const url = `/api/v1/rooms/${room.id}/messages/${message.seq}`;
      const edited = await t.app.inject({ method: 'PATCH', url, headers: as(alice), payload: { body: `@${carol!.user.username} look` } });
      expect(edited.statusCode).toBe(200);
      expect(edited.json().message.mentions).toEqual([carol!.user.id]);
      expect((await readPage(bob!, room.id)).messages.at(-1)!.mentions).toEqual([carol!.user.id]);
      expect(await entry(bob!, room.id)).toMatchObject({ mentionCount: 0 });
      expect(await entry(carol!, room.id)).toMatchObject({ mentionCount: 1 });
      expect((await t.app.inject({ method: 'DELETE', url, headers: as(alice) })).statusCode).toBe(204);
      expect(await entry(carol!, room.id)).toMatchObject({ mentionCount: 0 });
      expect((await readPage(carol!, room.id)).messages.at(-1)!.mentions).toEqual([]);
    });

    it('counts unread messages and mentions of the caller after the read marker in the room list', async () => {
      const { alice, room, others: [bob] } = await roomOf(1);
      expect(await entry(bob!, room.id)).toMatchObject({ unreadCount: 0, mentionCount: 0, notificationLevel: 'all' });
      await send(alice, room.id, 'hello');
      const mention = await send(alice, room.id, `@${bob!.user.username} look`);
      await send(alice, room.id, `@${bob!.user.username} again`);
      await send(bob!, room.id, 'my own message moves my marker');
      // Bob's own message moved his marker past everything: all read.
      expect(await entry(bob!, room.id)).toMatchObject({ unreadCount: 0, mentionCount: 0 });
      const withdrawn = await send(alice, room.id, 'sent and deleted before bob saw it');
      await send(alice, room.id, 'after bob');
      await send(alice, room.id, `hey @${bob!.user.username}`);
      expect(await entry(bob!, room.id)).toMatchObject({ unreadCount: 3, mentionCount: 1 });
      // A deleted message is nothing to read.
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/messages/${withdrawn.seq}`, headers: as(alice) })).statusCode).toBe(204);
      expect(await entry(bob!, room.id)).toMatchObject({ unreadCount: 2, mentionCount: 1 });
      // Alice's own messages are never unread for her, and sending moved her marker past bob's.
      expect(await entry(alice, room.id)).toMatchObject({ unreadCount: 0, mentionCount: 0 });
      const last = (await readPage(bob!, room.id)).messages.at(-1)!;
      expect((await post(bob!, `/api/v1/rooms/${room.id}/read`, { seq: last.seq - 1 })).statusCode).toBe(204);
      expect(await entry(bob!, room.id)).toMatchObject({ unreadCount: 1, mentionCount: 1 });
      expect((await post(bob!, `/api/v1/rooms/${room.id}/read`, { seq: last.seq })).statusCode).toBe(204);
      expect(await entry(bob!, room.id)).toMatchObject({ unreadCount: 0, mentionCount: 0 });
      expect(mention.mentions).toEqual([bob!.user.id]);
    });
  });

  describe('notification level', () => {
    it('sets the level for members (204), shows it in the list and tells the member’s other sockets', async () => {
      const { room, others: [bob] } = await roomOf(1);
      const otherDevice = await connectWs(base, { cookie: bob!.cookie });
      sockets.push(otherDevice);
      const response = await put(bob!, `/api/v1/rooms/${room.id}/notifications`, { level: 'mentions' });
      expect(response.statusCode).toBe(204);
      expect(await entry(bob!, room.id)).toMatchObject({ notificationLevel: 'mentions' });
      await otherDevice.waitFor((f) => f.type === 'notification_level' && f.roomId === room.id && f.level === 'mentions');
      expect((await put(bob!, `/api/v1/rooms/${room.id}/notifications`, { level: 'none' })).statusCode).toBe(204);
      expect(await entry(bob!, room.id)).toMatchObject({ notificationLevel: 'none' });
    });

    it('refuses a bad level (400), a non-member (403 public, 404 private) and a stranger (401), changing nothing', async () => {
      const { alice, room } = await roomOf();
      const secret = await createRoom(alice, { isPrivate: true });
      const outsider = await signUp(t.app);
      for (const level of ['loud', '', 3, null]) {
        const response = await put(alice, `/api/v1/rooms/${room.id}/notifications`, { level });
        expect(response.statusCode).toBe(400);
      }
      expect((await put(alice, `/api/v1/rooms/${room.id}/notifications`, {})).statusCode).toBe(400);
      expect((await put(outsider, `/api/v1/rooms/${room.id}/notifications`, { level: 'none' })).statusCode).toBe(403);
      expect((await put(outsider, `/api/v1/rooms/${secret.id}/notifications`, { level: 'none' })).statusCode).toBe(404);
      expect((await put(outsider, `/api/v1/rooms/${randomUUID()}/notifications`, { level: 'none' })).statusCode).toBe(404);
      expect((await put(null, `/api/v1/rooms/${room.id}/notifications`, { level: 'none' })).statusCode).toBe(401);
      expect(await entry(alice, room.id)).toMatchObject({ notificationLevel: 'all' });
    });
  });
});
