/**
 * Real time over `GET /api/v1/ws` (the WebSocket part of api.md), on SQLite and
 * PostgreSQL: authentication and origin checks, hello, send/ack/fan-out, typing,
 * presence, subscriptions that follow joins and leaves at once, isolation of private
 * rooms, and reconnect + catch-up without loss or duplicates.
 *
 * "Nothing arrived" is never asserted after a sleep: a later event that must arrive
 * after it on the same socket (a message in General, which everyone is in) is the
 * barrier, since a socket delivers frames in the order the server sent them.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Member, Message, Room } from '../../src/shared/protocol.js';
import { apiClient, as, listenOnLoopback, logIn, signUp, TEST_PASSWORD, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { attemptWs, closedAfterEach, connectWs, openWs, sendWs, type WsClient } from '../support/ws-client.js';
import { isAck, isError, isHello, isMember, isMessage, isPong, isPresence, isTyping, mentions, type Frame } from '../support/frames.js';

describe.each(DIALECTS)('real time on %s', (dialect) => {
  const t = useTestApp(dialect);
  let base: string;
  let general: Room;
  const open = closedAfterEach();

  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
  });

  // ---- a tiny client and factories ----
  const { get, post, createRoom, join, send: sendHttp, invite, readPage } = apiClient(() => t.app);

  async function connect(session: Session): Promise<WsClient> {
    const client = await connectWs(base, { cookie: session.cookie });
    open.push(client);
    return client;
  }
  async function user(): Promise<Session> {
    const session = await signUp(t.app);
    if (!general) general = ((await get(session, '/api/v1/rooms')).json() as Room[]).find((r) => r.name === 'General')!;
    return session;
  }
  /** A new room of Alice's with Bob in it too: where most of these tests start. */
  async function roomOfTwo(): Promise<{ alice: Session; bob: Session; room: Room }> {
    const alice = await user();
    const bob = await user();
    const room = await createRoom(alice);
    await join(bob, room.id);
    return { alice, bob, room };
  }
  const messagesAfter = (session: Session, roomId: string, after: number) => readPage(session, roomId, `?after=${after}`);
  async function members(session: Session, roomId: string): Promise<Member[]> {
    return (await get(session, `/api/v1/rooms/${roomId}/members`)).json() as Member[];
  }
  const storedCount = async (roomId: string) =>
    Number(
      (await t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow()).n,
    );
  /**
   * Posts a message in General and waits until every given socket has it: whatever the
   * server sent those sockets before that post has arrived by then.
   */
  async function barrier(sender: Session, ...clients: WsClient[]): Promise<void> {
    const marker = await sendHttp(sender, general.id, `barrier ${randomUUID()}`);
    await Promise.all(clients.map((client) => client.waitFor(isMessage(general.id, (m) => m.id === marker.id))));
  }

  describe('connecting', () => {
    it('refuses a connection without a session cookie, sending nothing', async () => {
      const outcome = await attemptWs(base, {});
      if (outcome.kind === 'http') expect(outcome.status).toBe(401);
      else expect(outcome).toEqual({ kind: 'closed', code: 4401, frames: [] });
    });

    it('refuses a connection with a forged session cookie, sending nothing', async () => {
      const session = await user();
      const forged = `${session.cookie.slice(0, -1)}${session.cookie.endsWith('A') ? 'B' : 'A'}`;
      const outcome = await attemptWs(base, { cookie: forged });
      if (outcome.kind === 'http') expect(outcome.status).toBe(401);
      else expect(outcome).toEqual({ kind: 'closed', code: 4401, frames: [] });
    });

    it('refuses a connection after logout, sending nothing', async () => {
      const session = await user();
      expect((await post(session, '/api/v1/auth/logout')).statusCode).toBe(204);
      const outcome = await attemptWs(base, { cookie: session.cookie });
      if (outcome.kind === 'http') expect(outcome.status).toBe(401);
      else expect(outcome).toEqual({ kind: 'closed', code: 4401, frames: [] });
    });

    it('refuses a connection from a foreign Origin, even with a valid cookie', async () => {
      const session = await user();
      const outcome = await attemptWs(base, { cookie: session.cookie, origin: 'https://evil.example' });
      if (outcome.kind === 'http') expect(outcome.status).toBe(403);
      else expect(outcome).toEqual({ kind: 'closed', code: 4403, frames: [] });
    });

    it('says hello with the user and every room they belong to, with its last seq', async () => {
      const session = await user();
      const room = await createRoom(session);
      await sendHttp(session, room.id, 'one');
      await sendHttp(session, room.id, 'two');
      const stranger = await user();
      const elsewhere = await createRoom(stranger, { isPrivate: true });
      const client = await connect(session);
      const hello = client.frames.find(isHello) as Frame<'hello'>;
      expect(hello.user).toEqual(session.user);
      expect(hello.rooms).toEqual(expect.arrayContaining([{ id: room.id, lastSeq: 2, lastChange: 0 }, { id: general.id, lastSeq: expect.any(Number), lastChange: 0 }]));
      expect(hello.rooms).toHaveLength(2);
      expect(hello.rooms.map((r) => r.id)).not.toContain(elsewhere.id);
      expect(client.frames[0]!.type).toBe('hello');
    });

    it('closes a socket when its session logs out, and the user goes offline', async () => {
      const alice = await user();
      const bob = await user();
      const bobSocket = await connect(bob);
      const aliceSocket = await connect(alice);
      await bobSocket.waitFor(isPresence(alice.user.id, true));
      expect((await post(alice, '/api/v1/auth/logout')).statusCode).toBe(204);
      expect((await aliceSocket.waitForClose()).code).toBe(4401);
      await bobSocket.waitFor(isPresence(alice.user.id, false));
    });

    it('closes the sockets of a session ended from another device, and only those', async () => {
      const laptop = await user();
      const phone = await logIn(t.app, laptop.user.username, TEST_PASSWORD);
      const laptopSocket = await connect(laptop);
      const phoneSocket = await connect(phone);
      const sessions = (await get(laptop, '/api/v1/auth/sessions')).json() as Array<{ id: string; current: boolean }>;
      const phoneSession = sessions.find((s) => !s.current)!;
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${phoneSession.id}`, headers: as(laptop) })).statusCode).toBe(204);
      expect((await phoneSocket.waitForClose()).code).toBe(4401);
      laptopSocket.send({ type: 'ping' });
      await laptopSocket.waitFor(isPong);
    });

    it('answers ping with pong', async () => {
      const client = await connect(await user());
      client.send({ type: 'ping' });
      await client.waitFor(isPong);
    });
  });

  describe('sending over the socket', () => {
    it('acks the sender and pushes the message to every connection of every member', async () => {
      const { alice, bob, room } = await roomOfTwo();
      const alicePhone = await connect(alice);
      const aliceLaptop = await connect(alice);
      const bobSocket = await connect(bob);

      const clientId = randomUUID();
      alicePhone.send({ type: 'send', roomId: room.id, body: '  hi bob  ', clientId });
      const ack = await alicePhone.waitFor<Frame<'ack'>>(isAck(clientId));
      expect(ack.message).toEqual({
        id: expect.any(String),
        roomId: room.id,
        seq: 1,
        sender: { id: alice.user.id, username: alice.user.username },
        body: 'hi bob',
        clientId,
        createdAt: expect.any(String),
        reactions: [],
        mentions: [],
        attachments: [],
      });
      const atBob = await bobSocket.waitFor<Frame<'message'>>(isMessage(room.id));
      const atLaptop = await aliceLaptop.waitFor<Frame<'message'>>(isMessage(room.id));
      expect(atBob.message).toEqual(ack.message);
      expect(atLaptop.message).toEqual(ack.message);

      const stored = await messagesAfter(bob, room.id, 0);
      expect(stored.messages).toEqual([ack.message]);
    });

    it('acks a resent clientId with the same message and stores it once', async () => {
      const alice = await user();
      const room = await createRoom(alice);
      const socket = await connect(alice);
      const clientId = randomUUID();
      socket.send({ type: 'send', roomId: room.id, body: 'once', clientId });
      const first = await socket.waitFor<Frame<'ack'>>(isAck(clientId));
      const seen = socket.frames.length;
      socket.send({ type: 'send', roomId: room.id, body: 'once', clientId });
      const second = await socket.waitFor<Frame<'ack'>>(isAck(clientId), { since: seen });
      expect(second.message).toEqual(first.message);
      expect(await storedCount(room.id)).toBe(1);
    });

    it('pushes a message sent over HTTP to the members’ sockets', async () => {
      const { alice, bob, room } = await roomOfTwo();
      const bobSocket = await connect(bob);
      const sent = await sendHttp(alice, room.id, 'posted over HTTP');
      const pushed = await bobSocket.waitFor<Frame<'message'>>(isMessage(room.id));
      expect(pushed.message).toEqual(sent);
    });

    it('refuses a send to a public room the sender is not in with an error frame, storing nothing', async () => {
      const owner = await user();
      const room = await createRoom(owner);
      const stranger = await user();
      const socket = await connect(stranger);
      const clientId = randomUUID();
      socket.send({ type: 'send', roomId: room.id, body: 'let me in', clientId });
      const error = await socket.waitFor<Frame<'error'>>(isError(clientId));
      expect(error.error).toMatchObject({ code: 'not_member', message: expect.any(String) });
      expect(socket.received(isAck(clientId))).toEqual([]);
      expect(await storedCount(room.id)).toBe(0);
    });

    it('refuses a send to a private room the sender is not in, as if it did not exist', async () => {
      const owner = await user();
      const room = await createRoom(owner, { isPrivate: true });
      const stranger = await user();
      const socket = await connect(stranger);
      const clientId = randomUUID();
      socket.send({ type: 'send', roomId: room.id, body: 'let me in', clientId });
      const error = await socket.waitFor<Frame<'error'>>(isError(clientId));
      const unknownId = randomUUID();
      socket.send({ type: 'send', roomId: randomUUID(), body: 'anyone?', clientId: unknownId });
      const unknown = await socket.waitFor<Frame<'error'>>(isError(unknownId));
      expect(error.error.code).toBe(unknown.error.code);
      expect(await storedCount(room.id)).toBe(0);
    });

    it.each([
      ['invalid JSON', '{"type": "send", '],
      ['a frame that is not an object', '[1, 2, 3]'],
      ['an unknown type', JSON.stringify({ type: 'shout', roomId: 'x' })],
      ['a frame without a type', JSON.stringify({ roomId: 'x', body: 'hi' })],
      ['a send without a body', JSON.stringify({ type: 'send', roomId: 'ROOM', clientId: 'no-body' })],
      ['a send without a clientId', JSON.stringify({ type: 'send', roomId: 'ROOM', body: 'no client id' })],
      ['a send without a roomId', JSON.stringify({ type: 'send', body: 'where to?', clientId: 'no-room' })],
    ])('answers %s with an error frame and keeps the connection open, storing nothing', async (_case, raw) => {
      const alice = await user();
      const room = await createRoom(alice);
      const socket = await connect(alice);
      socket.send(raw.replace('ROOM', room.id));
      const error = await socket.waitFor<Frame<'error'>>(isError());
      expect(error.error).toMatchObject({ code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) });
      socket.send({ type: 'ping' });
      await socket.waitFor(isPong);
      expect(await storedCount(room.id)).toBe(0);
      // Still able to send after the bad frame.
      expect((await sendWs(socket, room.id, 'still here')).seq).toBe(1);
    });

    it.each([
      ['an empty body', ''],
      ['a body of only whitespace', '   '],
      ['a body of 4001 characters', 'z'.repeat(4001)],
    ])('refuses %s with an error frame for that clientId, storing nothing', async (_case, body) => {
      const alice = await user();
      const room = await createRoom(alice);
      const socket = await connect(alice);
      const clientId = randomUUID();
      socket.send({ type: 'send', roomId: room.id, body, clientId });
      const error = await socket.waitFor<Frame<'error'>>(isError(clientId));
      expect(error.error).toMatchObject({ code: 'validation_failed' });
      expect(await storedCount(room.id)).toBe(0);
    });
  });

  describe('typing', () => {
    it('tells the other members who is typing where', async () => {
      const { alice, bob, room } = await roomOfTwo();
      const aliceSocket = await connect(alice);
      const bobSocket = await connect(bob);
      aliceSocket.send({ type: 'typing', roomId: room.id });
      const typing = await bobSocket.waitFor<Frame<'typing'>>(isTyping(room.id));
      expect(typing).toEqual({ type: 'typing', roomId: room.id, userId: alice.user.id });
    });

    it('tells each room’s members when the typist moves straight on to another room', async () => {
      const alice = await user();
      const bob = await user();
      const first = await createRoom(alice);
      const second = await createRoom(alice);
      await join(bob, first.id);
      await join(bob, second.id);
      const aliceSocket = await connect(alice);
      const bobSocket = await connect(bob);
      aliceSocket.send({ type: 'typing', roomId: first.id });
      await bobSocket.waitFor(isTyping(first.id));
      aliceSocket.send({ type: 'typing', roomId: second.id });
      const typing = await bobSocket.waitFor<Frame<'typing'>>(isTyping(second.id));
      expect(typing.userId).toBe(alice.user.id);
    });

    it('ignores typing in a room the typist is not in', async () => {
      const alice = await user();
      const room = await createRoom(alice, { isPrivate: true });
      const aliceSocket = await connect(alice);
      const stranger = await user();
      const strangerSocket = await connect(stranger);
      strangerSocket.send({ type: 'typing', roomId: room.id });
      strangerSocket.send({ type: 'ping' });
      await strangerSocket.waitFor(isPong);
      await barrier(stranger, aliceSocket);
      expect(aliceSocket.received(isTyping(room.id))).toEqual([]);
    });
  });

  describe('presence', () => {
    it('goes online with the first connection and offline when the last one closes', async () => {
      const { alice, bob, room } = await roomOfTwo();
      const bobSocket = await connect(bob);
      expect((await members(bob, room.id)).find((m) => m.user.id === alice.user.id)?.online).toBe(false);

      const first = await connect(alice);
      await bobSocket.waitFor(isPresence(alice.user.id, true));
      expect((await members(bob, room.id)).find((m) => m.user.id === alice.user.id)?.online).toBe(true);
      expect((await members(bob, room.id)).find((m) => m.user.id === bob.user.id)?.online).toBe(true);

      const second = await connect(alice);
      await first.close();
      await barrier(alice, bobSocket);
      expect(bobSocket.received(isPresence(alice.user.id, false))).toEqual([]);
      expect((await members(bob, room.id)).find((m) => m.user.id === alice.user.id)?.online).toBe(true);

      await second.close();
      await bobSocket.waitFor(isPresence(alice.user.id, false));
      expect((await members(bob, room.id)).find((m) => m.user.id === alice.user.id)?.online).toBe(false);
    });
  });

  describe('subscriptions follow membership at once', () => {
    it('delivers a public room’s next message to a user who just joined over HTTP, without reconnecting', async () => {
      const alice = await user();
      const bob = await user();
      const room = await createRoom(alice);
      const aliceSocket = await connect(alice);
      const bobSocket = await connect(bob);

      const joined = await post(bob, '/api/v1/rooms/join', { name: room.name });
      expect(joined.statusCode).toBe(200);
      await aliceSocket.waitFor(isMember(room.id, bob.user.id, 'joined'));

      const sent = await sendWs(aliceSocket, room.id, 'welcome, bob');
      const pushed = await bobSocket.waitFor<Frame<'message'>>(isMessage(room.id));
      expect(pushed.message).toEqual(sent);
    });

    it('delivers a private room’s next message to a user who just accepted an invite', async () => {
      const alice = await user();
      const bob = await user();
      const room = await createRoom(alice, { isPrivate: true });
      const aliceSocket = await connect(alice);
      const bobSocket = await connect(bob);

      await invite(alice, room.id, bob);
      await aliceSocket.waitFor(isMember(room.id, bob.user.id, 'joined'));
      const sent = await sendWs(aliceSocket, room.id, 'psst, bob');
      expect((await bobSocket.waitFor<Frame<'message'>>(isMessage(room.id))).message).toEqual(sent);

      // And bob can send there over the same socket.
      const reply = await sendWs(bobSocket, room.id, 'hi alice');
      expect((await aliceSocket.waitFor<Frame<'message'>>(isMessage(room.id, (m) => m.id === reply.id))).message.body).toBe('hi alice');
    });

    it('stops delivering a room’s messages to a user who just left, and tells the members', async () => {
      const { alice, bob, room } = await roomOfTwo();
      const aliceSocket = await connect(alice);
      const bobSocket = await connect(bob);
      await sendWs(aliceSocket, room.id, 'before you go');
      await bobSocket.waitFor(isMessage(room.id));

      expect((await post(bob, `/api/v1/rooms/${room.id}/leave`)).statusCode).toBe(204);
      await aliceSocket.waitFor(isMember(room.id, bob.user.id, 'left'));
      const seenBeforeLeaving = bobSocket.received(isMessage(room.id)).length;

      const after = await sendWs(aliceSocket, room.id, 'after you left');
      await sendHttp(alice, room.id, 'and once more over HTTP');
      aliceSocket.send({ type: 'typing', roomId: room.id });
      await barrier(alice, bobSocket);
      expect(bobSocket.received(isMessage(room.id))).toHaveLength(seenBeforeLeaving);
      expect(bobSocket.received(mentions(after.body))).toEqual([]);
      expect(bobSocket.received(isTyping(room.id))).toEqual([]);

      // Bob's socket can no longer send there either.
      const clientId = randomUUID();
      bobSocket.send({ type: 'send', roomId: room.id, body: 'wait, come back', clientId });
      await bobSocket.waitFor(isError(clientId));
      expect(await storedCount(room.id)).toBe(3);
    });
  });

  describe('membership changes while a socket is connecting', () => {
    /** Opens a socket for the user while `change` runs: alongside the upgrade, or just after it. */
    async function connectingWhile<T>(session: Session, round: number, change: () => Promise<T>): Promise<[WsClient, T]> {
      let socket: WsClient;
      let result: T;
      if (round % 2 === 0) {
        [socket, result] = await Promise.all([openWs(base, { cookie: session.cookie }), change()]);
      } else {
        socket = await openWs(base, { cookie: session.cookie });
        result = await change();
      }
      open.push(socket);
      await socket.waitFor(isHello);
      return [socket, result];
    }

    it('never delivers a room to a socket whose user left while it was connecting', async () => {
      const alice = await user();
      const aliceSocket = await connect(alice);
      // A race, so several rounds, each leaving several rooms at once while the socket is set up
      // (even rounds: alongside the upgrade; odd rounds: right after it, before hello). Only
      // PostgreSQL's pool lets the queries truly interleave, so it gets most of the rounds.
      const rounds = dialect === 'postgres' ? 16 : 4;
      for (let round = 0; round < rounds; round += 1) {
        const bob = await user();
        const rooms = await Promise.all(Array.from({ length: 8 }, () => createRoom(alice)));
        for (const room of rooms) await join(bob, room.id);
        const [bobSocket, answers] = await connectingWhile(bob, round, () =>
          Promise.all(rooms.map((room) => post(bob, `/api/v1/rooms/${room.id}/leave`))),
        );
        expect(answers.map((a) => a.statusCode)).toEqual(rooms.map(() => 204));
        const sent: Message[] = [];
        for (const room of rooms) {
          await aliceSocket.waitFor(isMember(room.id, bob.user.id, 'left'));
          sent.push(await sendWs(aliceSocket, room.id, `round ${round}: after bob left`));
        }
        await barrier(alice, bobSocket);
        const ids = new Set(sent.map((m) => m.id));
        expect(bobSocket.received((f) => f.type === 'message' && ids.has(f.message.id))).toEqual([]);
        await bobSocket.close();
      }
    });

    it('delivers a room to a socket whose user joined while it was connecting', async () => {
      const alice = await user();
      const aliceSocket = await connect(alice);
      for (let round = 0; round < 12; round += 1) {
        const bob = await user();
        const room = await createRoom(alice);
        const [bobSocket, joined] = await connectingWhile(bob, round, () => post(bob, `/api/v1/rooms/${room.id}/join`));
        expect(joined.statusCode).toBe(200);
        await aliceSocket.waitFor(isMember(room.id, bob.user.id, 'joined'));
        const after = await sendWs(aliceSocket, room.id, `round ${round} after bob joined`);
        await bobSocket.waitFor(isMessage(room.id, (m) => m.id === after.id));
        await bobSocket.close();
      }
    });
  });

  describe('private rooms stay private', () => {
    it('never sends a non-member any frame of a private room', async () => {
      const alice = await user();
      const bob = await user();
      const outsider = await user();
      const room = await createRoom(alice, { isPrivate: true });
      await invite(alice, room.id, bob);
      const outsiderSocket = await connect(outsider);
      const aliceSocket = await connect(alice);
      const bobSocket = await connect(bob);

      const secret = `secret ${randomUUID()}`;
      const overWs = await sendWs(aliceSocket, room.id, `${secret} over the socket`);
      const overHttp = await sendHttp(bob, room.id, `${secret} over HTTP`);
      aliceSocket.send({ type: 'typing', roomId: room.id });
      await bobSocket.waitFor(isTyping(room.id));
      const late = await user();
      await invite(alice, room.id, late);
      await bobSocket.waitFor(isMember(room.id, late.user.id, 'joined'));
      expect((await post(late, `/api/v1/rooms/${room.id}/leave`)).statusCode).toBe(204);
      await bobSocket.waitFor(isMember(room.id, late.user.id, 'left'));
      await bobSocket.waitFor(isMessage(room.id, (m) => m.id === overWs.id));
      await aliceSocket.waitFor(isMessage(room.id, (m) => m.id === overHttp.id));

      // The outsider also tries to get in through the socket.
      const clientId = randomUUID();
      outsiderSocket.send({ type: 'send', roomId: room.id, body: 'knock knock', clientId });
      outsiderSocket.send({ type: 'typing', roomId: room.id });
      await outsiderSocket.waitFor(isError(clientId));

      await barrier(alice, outsiderSocket);
      expect(outsiderSocket.received(mentions(room.id))).toEqual([]);
      expect(outsiderSocket.received(mentions(secret))).toEqual([]);
      expect(outsiderSocket.received(mentions(room.name))).toEqual([]);
      expect(await storedCount(room.id)).toBe(2);
    });
  });

  describe('reconnecting', () => {
    it('ends with every message exactly once, in order, after a reconnect and an after= catch-up', async () => {
      const { alice, bob, room } = await roomOfTwo();
      const aliceSocket = await connect(alice);

      // Bob's first connection sees messages 1..3.
      const bobFirst = await connect(bob);
      const sentBodies: string[] = [];
      for (const body of ['one', 'two', 'three']) {
        sentBodies.push(body);
        await sendWs(aliceSocket, room.id, body);
      }
      await bobFirst.waitFor(isMessage(room.id, (m) => m.seq === 3));
      const timeline = new Map<number, Message>();
      for (const frame of bobFirst.received(isMessage(room.id)) as Array<Frame<'message'>>) timeline.set(frame.message.seq, frame.message);
      await bobFirst.close();

      // While bob is away, 4..6 are sent over both paths.
      for (const body of ['four', 'five']) {
        sentBodies.push(body);
        await sendWs(aliceSocket, room.id, body);
      }
      sentBodies.push('six');
      await sendHttp(alice, room.id, 'six');

      // Bob reconnects: hello tells him how far the room got; he fetches what he lacks.
      const bobSecond = await connect(bob);
      const hello = bobSecond.frames[0] as Frame<'hello'>;
      expect(hello.rooms).toContainEqual({ id: room.id, lastSeq: 6, lastChange: 0 });
      const lastSeen = Math.max(...timeline.keys());
      expect(lastSeen).toBe(3);
      const caughtUp = await messagesAfter(bob, room.id, lastSeen);
      expect(caughtUp.hasMore).toBe(false);
      expect(caughtUp.messages.map((m) => m.seq)).toEqual([4, 5, 6]);
      for (const message of caughtUp.messages) timeline.set(message.seq, message);

      // And live messages go on arriving on the new socket.
      sentBodies.push('seven');
      const seventh = await sendWs(aliceSocket, room.id, 'seven');
      const live = await bobSecond.waitFor<Frame<'message'>>(isMessage(room.id, (m) => m.id === seventh.id));
      expect(timeline.has(live.message.seq)).toBe(false);
      timeline.set(live.message.seq, live.message);

      const ordered = [...timeline.entries()].sort(([a], [b]) => a - b);
      expect(ordered.map(([seq]) => seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(ordered.map(([, m]) => m.body)).toEqual(sentBodies);
      expect(new Set(ordered.map(([, m]) => m.id)).size).toBe(7);
      // The new socket did not replay anything from before it connected.
      expect(bobSecond.received(isMessage(room.id)).map((f) => (f as Frame<'message'>).message.seq)).toEqual([7]);
      expect(await messagesAfter(bob, room.id, 0)).toEqual({ messages: ordered.map(([, m]) => m), hasMore: false });
    });
  });
});
