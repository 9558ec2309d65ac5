/**
 * Sending and reading messages through HTTP (the Messages part of api.md), on SQLite
 * and PostgreSQL: idempotent sends, contiguous per-room seqs under concurrency, history
 * pages, catch-up, membership rules and encryption at rest.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Message, MessagePage, Room } from '../../src/shared/protocol.js';
import { apiClient, logIn, signUp, startTestApp, TEST_PASSWORD, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(DIALECTS)('messages on %s', (dialect) => {
  const t = useTestApp(dialect);

  // ---- a tiny client and factories ----
  const { get, post, createRoom, join, send, readPage: page } = apiClient(() => t.app);
  const sendRaw = (session: Session | null, roomId: string, payload: unknown) => post(session, `/api/v1/rooms/${roomId}/messages`, payload);
  const seqs = (messages: Message[]) => messages.map((m) => m.seq);
  const storedCount = async (roomId: string) =>
    Number(
      (await t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow()).n,
    );
  const lastSeqOf = async (roomId: string) =>
    Number((await t.database.db.selectFrom('rooms').select('last_seq').where('id', '=', roomId).executeTakeFirstOrThrow()).last_seq);

  /** A room with `count` messages from its owner, bodies "m1".."m<count>". */
  async function roomWithMessages(count: number, fields: { isPrivate?: boolean } = {}) {
    const owner = await signUp(t.app);
    const room = await createRoom(owner, fields);
    for (let i = 1; i <= count; i += 1) await send(owner, room.id, `m${i}`);
    return { owner, room };
  }

  describe('sending', () => {
    it('answers 201 with the message, seq 1 in a new room, and the body trimmed', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const clientId = randomUUID();
      const response = await sendRaw(owner, room.id, { body: '  hello, world \n', clientId });
      expect(response.statusCode).toBe(201);
      expect(response.json().message).toEqual({
        id: expect.any(String),
        roomId: room.id,
        seq: 1,
        sender: { id: owner.user.id, username: owner.user.username },
        body: 'hello, world',
        clientId,
        createdAt: expect.stringMatching(ISO),
        reactions: [],
        mentions: [],
        attachments: [],
      });
    });

    it('numbers a room’s messages 1, 2, 3… and each room on its own', async () => {
      const owner = await signUp(t.app);
      const first = await createRoom(owner);
      const second = await createRoom(owner);
      expect((await send(owner, first.id, 'a')).seq).toBe(1);
      expect((await send(owner, first.id, 'b')).seq).toBe(2);
      expect((await send(owner, second.id, 'c')).seq).toBe(1);
      expect((await send(owner, first.id, 'd')).seq).toBe(3);
      const rooms = (await get(owner, '/api/v1/rooms')).json() as Room[];
      expect(rooms.find((r) => r.id === first.id)).toMatchObject({ lastSeq: 3 });
      expect(rooms.find((r) => r.id === second.id)).toMatchObject({ lastSeq: 1 });
    });

    it('answers a retry with the same clientId with 200 and the same message, storing nothing new', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const clientId = randomUUID();
      const first = await sendRaw(owner, room.id, { body: 'only once', clientId });
      expect(first.statusCode).toBe(201);
      const retry = await sendRaw(owner, room.id, { body: 'only once', clientId });
      expect(retry.statusCode).toBe(200);
      expect(retry.json().message).toEqual(first.json().message);
      expect(await storedCount(room.id)).toBe(1);
      expect(await lastSeqOf(room.id)).toBe(1);
      expect((await send(owner, room.id, 'next')).seq).toBe(2);
    });

    it('stores exactly one message for 20 concurrent sends with the same clientId', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const clientId = randomUUID();
      const answers = await Promise.all(Array.from({ length: 20 }, () => sendRaw(owner, room.id, { body: 'retry storm', clientId })));
      expect(answers.map((a) => a.statusCode).sort((a, b) => a - b)).toEqual([...Array(19).fill(200), 201]);
      const ids = new Set(answers.map((a) => a.json().message.id));
      expect(ids.size).toBe(1);
      expect(new Set(answers.map((a) => a.json().message.seq))).toEqual(new Set([1]));
      expect(await storedCount(room.id)).toBe(1);
      expect(await lastSeqOf(room.id)).toBe(1);
      expect(seqs((await page(owner, room.id)).messages)).toEqual([1]);
    });

    it('gives 50 concurrent sends from 3 users the seqs 1..50, no gap and no duplicate', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const others = [await signUp(t.app), await signUp(t.app)];
      for (const other of others) await join(other, room.id);
      const senders = [owner, ...others];
      const answers = await Promise.all(
        range(1, 50).map((i) => sendRaw(senders[i % 3]!, room.id, { body: `concurrent ${i}`, clientId: `c-${i}` })),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(50).fill(201));
      expect(answers.map((a) => a.json().message.seq).sort((a, b) => a - b)).toEqual(range(1, 50));
      const all = await page(owner, room.id, '?after=0');
      expect(seqs(all.messages)).toEqual(range(1, 50));
      expect(new Set(all.messages.map((m) => m.clientId)).size).toBe(50);
      expect(await lastSeqOf(room.id)).toBe(50);
    });

    it('tells the client the configured limit with the session, and holds to it', async () => {
      const small = await startTestApp(dialect, { MESSAGE_MAX_LENGTH: '120' });
      try {
        const owner = await signUp(small.app);
        const session = await small.app.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie: owner.cookie } });
        expect(session.json().limits).toEqual({ messageMaxLength: 120 });
        const { createRoom: create, post: postTo } = apiClient(() => small.app);
        const room = await create(owner);
        expect((await postTo(owner, `/api/v1/rooms/${room.id}/messages`, { body: 'x'.repeat(120), clientId: randomUUID() })).statusCode).toBe(201);
        const tooLong = await postTo(owner, `/api/v1/rooms/${room.id}/messages`, { body: 'x'.repeat(121), clientId: randomUUID() });
        expect(tooLong.statusCode).toBe(400);
        expect(tooLong.json().error.message).toBe('Messages may be at most 120 characters.');
      } finally {
        await small.close();
      }
    });

    it('accepts a body of exactly 4000 characters after trimming', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const body = 'x'.repeat(4000);
      const message = await send(owner, room.id, `  ${body}  `);
      expect(message.body).toBe(body);
    });

    it('keeps a body exactly as typed, markup and all (rendering is the client’s job)', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const body = '<script>alert("hi")</script> & ünïcödé 🎉\nsecond line';
      expect((await send(owner, room.id, body)).body).toBe(body);
      expect((await page(owner, room.id)).messages[0]!.body).toBe(body);
    });

    const rejections: Array<[string, unknown, string]> = [
      ['an empty body', { body: '', clientId: 'v-1' }, 'body'],
      ['a body of only whitespace', { body: ' \n\t  ', clientId: 'v-2' }, 'body'],
      ['a body of 4001 characters', { body: 'y'.repeat(4001), clientId: 'v-3' }, 'body'],
      ['a missing body', { clientId: 'v-4' }, 'body'],
      ['a body that is not a string', { body: 42, clientId: 'v-5' }, 'body'],
      ['a missing clientId', { body: 'hello' }, 'clientId'],
      ['an empty clientId', { body: 'hello', clientId: '' }, 'clientId'],
      ['a clientId of 65 characters', { body: 'hello', clientId: 'k'.repeat(65) }, 'clientId'],
      ['a clientId that is not a string', { body: 'hello', clientId: 7 }, 'clientId'],
    ];
    it.each(rejections)('rejects %s with 400 naming the field, and stores nothing', async (_case, payload, field) => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const response = await sendRaw(owner, room.id, payload);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', field, message: expect.any(String) });
      expect(await storedCount(room.id)).toBe(0);
      expect(await lastSeqOf(room.id)).toBe(0);
    });

    it('accepts a clientId of 64 characters', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const response = await sendRaw(owner, room.id, { body: 'hello', clientId: 'k'.repeat(64) });
      expect(response.statusCode).toBe(201);
    });

    it('moves the sender’s read marker, so another session of theirs counts only others’ messages as unread', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const other = await signUp(t.app);
      await join(other, room.id);
      await send(other, room.id, 'before');
      for (const body of ['one', 'two']) await send(owner, room.id, body); // HTTP
      const unreadOf = async (session: Session) => {
        const rooms = (await get(session, '/api/v1/rooms')).json() as Room[];
        const mine = rooms.find((r) => r.id === room.id)!;
        return mine.lastSeq - mine.lastReadSeq!;
      };
      const elsewhere = await logIn(t.app, owner.user.username, TEST_PASSWORD); // another device
      expect(await unreadOf(elsewhere)).toBe(0); // sending reads what came before too
      await send(other, room.id, 'reply');
      expect(await unreadOf(elsewhere)).toBe(1);
      expect(await unreadOf(other)).toBe(0); // their last send was the room's last message
    });

    it('requires the CSRF token with the session cookie', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const response = await t.app.inject({
        method: 'POST',
        url: `/api/v1/rooms/${room.id}/messages`,
        headers: { cookie: owner.cookie },
        payload: { body: 'forged', clientId: randomUUID() },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('csrf_failed');
      expect(await storedCount(room.id)).toBe(0);
    });
  });

  describe('history', () => {
    it('answers the newest page oldest first, and the pages before it, with hasMore', async () => {
      const { owner, room } = await roomWithMessages(7);
      const newest = await page(owner, room.id, '?limit=3');
      expect(seqs(newest.messages)).toEqual([5, 6, 7]);
      expect(newest.messages.map((m) => m.body)).toEqual(['m5', 'm6', 'm7']);
      expect(newest.hasMore).toBe(true);
      const older = await page(owner, room.id, '?before=5&limit=3');
      expect(seqs(older.messages)).toEqual([2, 3, 4]);
      expect(older.hasMore).toBe(true);
      const oldest = await page(owner, room.id, '?before=2&limit=3');
      expect(seqs(oldest.messages)).toEqual([1]);
      expect(oldest.hasMore).toBe(false);
    });

    it('says hasMore false when the page reaches the first message exactly', async () => {
      const { owner, room } = await roomWithMessages(4);
      const all = await page(owner, room.id, '?limit=4');
      expect(seqs(all.messages)).toEqual([1, 2, 3, 4]);
      expect(all.hasMore).toBe(false);
      expect(await page(owner, room.id, '?before=1&limit=4')).toEqual({ messages: [], hasMore: false });
    });

    it('answers the whole of a small room without a limit', async () => {
      const { owner, room } = await roomWithMessages(3);
      const all = await page(owner, room.id);
      expect(seqs(all.messages)).toEqual([1, 2, 3]);
      expect(all.hasMore).toBe(false);
      expect(all.messages[0]).toMatchObject({ roomId: room.id, body: 'm1', sender: { id: owner.user.id, username: owner.user.username } });
    });

    it('answers an empty room with no messages', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      expect(await page(owner, room.id)).toEqual({ messages: [], hasMore: false });
    });

    it('shows every member the messages of all senders', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const member = await signUp(t.app);
      await join(member, room.id);
      await send(owner, room.id, 'from the owner');
      await send(member, room.id, 'from the member');
      const seen = await page(member, room.id);
      expect(seen.messages.map((m) => [m.sender.id, m.body])).toEqual([
        [owner.user.id, 'from the owner'],
        [member.user.id, 'from the member'],
      ]);
    });

    it.each([
      ['a limit that is not a number', '?limit=abc', 'limit'],
      ['a limit of 0', '?limit=0', 'limit'],
      ['a before that is not a number', '?before=latest', 'before'],
      ['an after that is not a number', '?after=soon', 'after'],
    ])('rejects %s with 400 naming the parameter', async (_case, query, field) => {
      const { owner, room } = await roomWithMessages(1);
      const response = await get(owner, `/api/v1/rooms/${room.id}/messages${query}`);
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'validation_failed', field });
    });
  });

  describe('catch-up after a seq', () => {
    it('answers everything after the seq, oldest first', async () => {
      const { owner, room } = await roomWithMessages(7);
      const after = await page(owner, room.id, '?after=4');
      expect(seqs(after.messages)).toEqual([5, 6, 7]);
      expect(after.messages.map((m) => m.body)).toEqual(['m5', 'm6', 'm7']);
      expect(after.hasMore).toBe(false);
      expect(seqs((await page(owner, room.id, '?after=0')).messages)).toEqual(range(1, 7));
      expect(await page(owner, room.id, '?after=7')).toEqual({ messages: [], hasMore: false });
    });

    it('pages a long gap 1000 at a time, with hasMore', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      // 1000 sends over HTTP take seconds; seed them as the service stores them (encrypted,
      // seq taken from the room), then send the 1001st through the API.
      const now = t.clock.now();
      await t.database.db.transaction().execute(async (trx) => {
        const rows = range(1, 1000).map((seq) => {
          const { ciphertext, keyId } = t.keyring.encrypt(`bulk ${seq}`);
          return {
            id: randomUUID(),
            room_id: room.id,
            seq,
            sender_id: owner.user.id,
            client_id: `bulk-${seq}`,
            body_format: 'fernet',
            body_ciphertext: ciphertext,
            body_key_id: keyId,
            created_at: now,
            edited_at: null,
          };
        });
        for (let i = 0; i < rows.length; i += 100) await trx.insertInto('messages').values(rows.slice(i, i + 100)).execute();
        await trx.updateTable('rooms').set({ last_seq: 1000 }).where('id', '=', room.id).execute();
      });
      expect((await send(owner, room.id, 'bulk 1001')).seq).toBe(1001);

      const first = await page(owner, room.id, '?after=0');
      expect(first.messages).toHaveLength(1000);
      expect(seqs(first.messages)).toEqual(range(1, 1000));
      expect(first.messages[999]!.body).toBe('bulk 1000');
      expect(first.hasMore).toBe(true);
      const rest = await page(owner, room.id, '?after=1000');
      expect(rest.messages.map((m) => [m.seq, m.body])).toEqual([[1001, 'bulk 1001']]);
      expect(rest.hasMore).toBe(false);
    });
  });

  describe('who may read and send', () => {
    it('refuses a non-member of a public room with 403 not_member, reading and sending', async () => {
      const { room } = await roomWithMessages(2);
      const stranger = await signUp(t.app);
      for (const query of ['', '?limit=5', '?after=0', '?before=2']) {
        const read = await get(stranger, `/api/v1/rooms/${room.id}/messages${query}`);
        expect(read.statusCode).toBe(403);
        expect(read.json().error.code).toBe('not_member');
        expect(read.body).not.toContain('m1');
      }
      const write = await sendRaw(stranger, room.id, { body: 'let me in', clientId: randomUUID() });
      expect(write.statusCode).toBe(403);
      expect(write.json().error.code).toBe('not_member');
      expect(await storedCount(room.id)).toBe(2);
    });

    it('answers a non-member of a private room with 404, reading and sending, like an unknown room', async () => {
      const { room } = await roomWithMessages(2, { isPrivate: true });
      const stranger = await signUp(t.app);
      const unknown = await get(stranger, `/api/v1/rooms/${randomUUID()}/messages`);
      expect(unknown.statusCode).toBe(404);
      for (const query of ['', '?after=0']) {
        const read = await get(stranger, `/api/v1/rooms/${room.id}/messages${query}`);
        expect(read.statusCode).toBe(404);
        expect(read.json().error.code).toBe(unknown.json().error.code);
        expect(read.body).not.toContain('m1');
      }
      const write = await sendRaw(stranger, room.id, { body: 'let me in', clientId: randomUUID() });
      expect(write.statusCode).toBe(404);
      expect(await storedCount(room.id)).toBe(2);
    });

    it('refuses a non-member with 403 even while the messages table cannot be read', async () => {
      // The page is read beside the access check: the check's answer must still come first.
      const { owner, room } = await roomWithMessages(1);
      const stranger = await signUp(t.app);
      await sql`alter table messages rename to messages_away`.execute(t.database.db);
      try {
        const read = await get(stranger, `/api/v1/rooms/${room.id}/messages`);
        expect(read.statusCode, read.body).toBe(403);
        expect(read.json().error.code).toBe('not_member');
        // A member meets the failure itself.
        expect((await get(owner, `/api/v1/rooms/${room.id}/messages`)).statusCode).toBeGreaterThanOrEqual(500);
      } finally {
        await sql`alter table messages_away rename to messages`.execute(t.database.db);
      }
      expect((await page(owner, room.id)).messages).toHaveLength(1);
    });

    if (dialect === 'postgres') {
      it('refuses a non-member at once while the page read waits for a lock', async () => {
        const { owner, room } = await roomWithMessages(1);
        const stranger = await signUp(t.app);
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const locking = new Promise<void>((resolve) => (locked = resolve));
        // Another transaction holds the messages table: page reads wait, access checks do not.
        const holder = t.database.db.transaction().execute(async (trx) => {
          await sql`lock table messages in access exclusive mode`.execute(trx);
          locked();
          await released;
        });
        await locking;
        let memberDone = false;
        const memberRead = get(owner, `/api/v1/rooms/${room.id}/messages`).finally(() => (memberDone = true));
        try {
          const refused = await Promise.race([
            get(stranger, `/api/v1/rooms/${room.id}/messages`),
            new Promise<'still waiting'>((resolve) => setTimeout(() => resolve('still waiting'), 5_000)),
          ]);
          expect(refused === 'still waiting' ? refused : refused.statusCode).toBe(403);
          expect(memberDone).toBe(false);
        } finally {
          release();
          await holder;
        }
        expect((await memberRead).statusCode).toBe(200);
      });
    }

    it('answers a send to an unknown room with 404', async () => {
      const session = await signUp(t.app);
      const response = await sendRaw(session, randomUUID(), { body: 'anyone?', clientId: randomUUID() });
      expect(response.statusCode).toBe(404);
    });

    it('stops a member who left from reading or sending', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const member = await signUp(t.app);
      await join(member, room.id);
      await send(member, room.id, 'bye');
      expect((await post(member, `/api/v1/rooms/${room.id}/leave`)).statusCode).toBe(204);
      expect((await get(member, `/api/v1/rooms/${room.id}/messages`)).statusCode).toBe(403);
      expect((await sendRaw(member, room.id, { body: 'one more', clientId: randomUUID() })).statusCode).toBe(403);
      expect(await storedCount(room.id)).toBe(1);
    });
  });

  describe('encryption at rest', () => {
    it('stores the body only as a Fernet token and reads it back as plaintext', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      const body = `the launch code is ${randomUUID()}`;
      const message = await send(owner, room.id, body);
      const row = await t.database.db.selectFrom('messages').selectAll().where('id', '=', message.id).executeTakeFirstOrThrow();
      expect(row.body_ciphertext).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
      expect(row.body_ciphertext).not.toContain(body);
      expect(JSON.stringify(row)).not.toContain(body);
      expect(JSON.stringify(row)).not.toContain('launch code');
      expect((await page(owner, room.id)).messages[0]!.body).toBe(body);
    });

    it('encrypts the same body differently each time', async () => {
      const owner = await signUp(t.app);
      const room = await createRoom(owner);
      await send(owner, room.id, 'same words');
      await send(owner, room.id, 'same words');
      const rows = await t.database.db.selectFrom('messages').select('body_ciphertext').where('room_id', '=', room.id).execute();
      expect(rows).toHaveLength(2);
      expect(rows[0]!.body_ciphertext).not.toBe(rows[1]!.body_ciphertext);
    });
  });

  describe('when signed out', () => {
    let roomId: string;
    beforeAll(async () => {
      roomId = (await roomWithMessages(1)).room.id;
    });

    it.each([
      ['GET', '/api/v1/rooms/:roomId/messages'],
      ['GET', '/api/v1/rooms/:roomId/messages?after=0'],
      ['GET', '/api/v1/rooms/:roomId/messages?before=2&limit=1'],
      ['POST', '/api/v1/rooms/:roomId/messages'],
    ] as const)('answers %s %s with 401', async (method, path) => {
      const response = await t.app.inject({
        method,
        url: path.replace(':roomId', roomId),
        ...(method === 'POST' ? { payload: { body: 'anonymous', clientId: randomUUID() } } : {}),
      });
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('auth_required');
      expect(response.body).not.toContain('m1');
      expect(await storedCount(roomId)).toBe(1);
    });
  });
});
