/**
 * Attachments ride on messages, on SQLite (files in a data folder) and PostgreSQL (files in
 * the database): a send names the sender's stored uploads to the room, over HTTP and the
 * socket; the files are attached in the message's own transaction (two sends naming one
 * file: one wins); every read path and frame shows them; an edit keeps them; a delete
 * releases them and its tombstone carries none. Anything else named is a 400 that stores nothing.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_LIMITS, type FileInfo, type Message } from '../../src/shared/protocol.js';
import { listenOnLoopback, useTestApp, type Session } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { createRoom, sendMessage } from '../support/factories.js';
import { fileRow, storedUpload, testFilesDir } from '../support/stored-uploads.js';
import { isAck, isError, type Frame } from '../support/frames.js';
import { httpClient } from '../support/http.js';
import { messageChanges, roomOfFour } from '../support/message-changes.js';
import { closedAfterEach, connectWs } from '../support/ws-client.js';

describe.each(DIALECTS)('attachments on %s', (dialect) => {
  const filesDir = testFilesDir();
  const t = useTestApp(dialect, dialect === 'postgres' ? { FILE_STORAGE: 'database' } : { FILES_DIR: filesDir });
  const api = messageChanges(() => t.app);
  const http = httpClient(() => t.app);
  const sockets = closedAfterEach();
  let base: string;
  beforeAll(async () => {
    base = await listenOnLoopback(t.app);
  });
  afterAll(async () => {
    await rm(filesDir, { recursive: true, force: true });
  });

  const open = async (session: Session) => {
    const socket = await connectWs(base, { cookie: session.cookie });
    sockets.push(socket);
    return socket;
  };
  const upload = (roomId: string, who: Session, fields: Partial<Parameters<typeof storedUpload>[1]> = {}) =>
    storedUpload(t, { roomId, uploaderId: who.user.id, ...fields });
  const send = (who: Session, roomId: string, payload: { body?: string; clientId?: string; attachments?: unknown; replyTo?: number }) =>
    http.request('POST', `/api/v1/rooms/${roomId}/messages`, { session: who, body: { body: payload.body ?? '', clientId: payload.clientId ?? randomUUID(), ...payload } });
  const messagesOf = async (who: Session, roomId: string, query = '') => (await api.page(who, roomId, query)).messages;
  const storedCount = async (roomId: string) =>
    Number((await t.database.db.selectFrom('messages').select((eb) => eb.fn.countAll().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow()).n);

  it('sends files over HTTP: the message carries them in upload order, with an empty body allowed, and every page shows them', async () => {
    const { alice, bob, room, message: first } = await roomOfFour(() => t.app);
    const image = await upload(room.id, alice, { name: 'screenshot.png', mime: 'image/png', size: 70_000, width: 640, height: 480 });
    const log = await upload(room.id, alice, { name: 'server.log', mime: 'text/plain', size: 1234 });
    expect(image).toMatchObject({ width: 640, height: 480 });

    const sent = await send(alice, room.id, { body: '', attachments: [image.id, log.id] });
    expect(sent.status, sent.text).toBe(201);
    const message = sent.body.message as Message;
    expect(message.body).toBe('');
    expect(message.attachments).toEqual([image, log]);
    expect(await fileRow(t, image.id)).toEqual({ state: 'stored', message_seq: message.seq });
    expect(await fileRow(t, log.id)).toEqual({ state: 'stored', message_seq: message.seq });

    const plain = await sendMessage(t.app, bob, room.id, 'no files here');
    expect(plain.attachments).toEqual([]);
    const shown = (list: Message[]) => list.map((m) => [m.seq, m.attachments]);
    const expected = [[first.seq, []], [message.seq, [image, log]], [plain.seq, []]];
    expect(shown(await messagesOf(bob, room.id))).toEqual(expected);
    expect(shown(await messagesOf(bob, room.id, `?after=${first.seq - 1}`))).toEqual(expected);
    expect(shown(await messagesOf(bob, room.id, `?before=${plain.seq}`))).toEqual(expected.slice(0, 2));
    expect(shown(await messagesOf(bob, room.id, '?limit=2'))).toEqual(expected.slice(1));

    // Without files the old rule stands.
    const empty = await send(alice, room.id, { body: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toMatchObject({ code: 'validation_failed', field: 'body' });
  });

  it('sends files over the socket: the ack and every member’s message frame carry them', async () => {
    const { alice, bob, room } = await roomOfFour(() => t.app);
    const [aliceSocket, bobSocket] = [await open(alice), await open(bob)];
    const files = [await upload(room.id, alice), await upload(room.id, alice, { name: 'b.pdf', mime: 'application/pdf' })];
    const clientId = randomUUID();
    aliceSocket.send({ type: 'send', roomId: room.id, body: 'two files', clientId, attachments: files.map((f) => f.id) });
    const ack = await aliceSocket.waitFor<Frame<'ack'>>(isAck(clientId));
    expect(ack.message.attachments).toEqual(files);
    const frame = await bobSocket.waitFor<Frame<'message'>>((f) => f.type === 'message' && f.message.clientId === clientId);
    expect(frame.message).toEqual(ack.message);
    expect((await messagesOf(bob, room.id)).at(-1)).toEqual(ack.message);
  });

  it('refuses another user’s upload, another room’s, one already sent, an unknown id, repeats and too many: 400, nothing stored, the file still waiting', async () => {
    const { alice, bob, room } = await roomOfFour(() => t.app);
    const elsewhere = await createRoom(t.app, alice);
    const bobs = await upload(room.id, bob);
    const otherRoom = await upload(elsewhere.id, alice);
    const sentAlready = await upload(room.id, alice);
    const sentWith = await send(alice, room.id, { body: 'first', attachments: [sentAlready.id] });
    expect(sentWith.status).toBe(201);
    const mine = await upload(room.id, alice);
    const before = await storedCount(room.id);
    const aliceSocket = await open(alice);

    const unknown = randomUUID();
    const refusals: Array<[string, unknown, string]> = [
      ["another user's upload", [mine.id, bobs.id], bobs.id],
      ["another room's upload", [otherRoom.id], otherRoom.id],
      ['a file already sent', [sentAlready.id, mine.id], sentAlready.id],
      ['an unknown id', [unknown], unknown],
    ];
    for (const [what, attachments, named] of refusals) {
      const answer = await send(alice, room.id, { body: what, attachments });
      expect(answer.status, what).toBe(400);
      expect(answer.body.error, what).toMatchObject({ code: 'invalid_attachment', field: 'attachments' });
      expect(answer.body.error.message, what).toMatch(/^File .+ is not an upload of yours to this room waiting to be sent\.$/);
      expect(answer.body.error.message, what).toContain(named);
      const clientId = randomUUID();
      aliceSocket.send({ type: 'send', roomId: room.id, body: what, clientId, attachments });
      const error = await aliceSocket.waitFor<Frame<'error'>>(isError(clientId));
      expect(error.error, what).toMatchObject({ code: 'invalid_attachment' });
    }
    const tooMany = Array.from({ length: FILE_LIMITS.attachmentsPerMessageMax + 1 }, () => randomUUID());
    const shapes: Array<[string, unknown, string]> = [
      ['too many', tooMany, 'attachments may have at most 10 items.'],
      ['the same file twice', [mine.id, mine.id], 'attachments must not name the same item twice.'],
      ['none', [], 'attachments must have at least 1 item.'],
      ['not a list', mine.id, 'attachments must be an array.'],
      ['not ids', [42], 'attachments.0 must be a string.'],
    ];
    for (const [what, attachments, sentence] of shapes) {
      const answer = await send(alice, room.id, { body: what, attachments });
      expect(answer.status, what).toBe(400);
      expect(answer.body.error, what).toEqual({ code: 'validation_failed', message: sentence, field: expect.stringMatching(/^attachments/) });
      const clientId = randomUUID();
      aliceSocket.send({ type: 'send', roomId: room.id, body: what, clientId, attachments });
      expect((await aliceSocket.waitFor<Frame<'error'>>(isError(clientId))).error.code, what).toBe('invalid_frame');
    }
    expect(await storedCount(room.id)).toBe(before);
    expect(await fileRow(t, mine.id)).toEqual({ state: 'stored', message_seq: null });
    expect(await fileRow(t, bobs.id)).toEqual({ state: 'stored', message_seq: null });
    expect(await fileRow(t, otherRoom.id)).toEqual({ state: 'stored', message_seq: null });
    // Still sendable afterwards.
    expect((await send(alice, room.id, { attachments: [mine.id] })).status).toBe(201);
  });

  it('lets exactly one of two sends naming the same file win, over HTTP and the socket at once', async () => {
    const { alice, room } = await roomOfFour(() => t.app);
    const aliceSocket = await open(alice);
    for (let round = 0; round < 4; round += 1) {
      const file = await upload(room.id, alice);
      const before = await storedCount(room.id);
      const socketClientId = randomUUID();
      aliceSocket.send({ type: 'send', roomId: room.id, body: `socket ${round}`, clientId: socketClientId, attachments: [file.id] });
      const [one, two] = await Promise.all([
        send(alice, room.id, { body: `http a ${round}`, attachments: [file.id] }),
        send(alice, room.id, { body: `http b ${round}`, attachments: [file.id] }),
      ]);
      const frame = await aliceSocket.waitFor<Frame<'ack'> | Frame<'error'>>((f) => (f.type === 'ack' || f.type === 'error') && f.clientId === socketClientId);
      const outcomes = [one.status, two.status, frame.type === 'ack' ? 201 : 400];
      expect(outcomes.filter((status) => status === 201), `round ${round}: ${outcomes}`).toHaveLength(1);
      expect(outcomes.filter((status) => status === 400)).toHaveLength(2);
      for (const answer of [one, two].filter((a) => a.status === 400)) expect(answer.body.error.code).toBe('invalid_attachment');
      if (frame.type === 'error') expect(frame.error.code).toBe('invalid_attachment');
      expect(await storedCount(room.id)).toBe(before + 1);
      const winner = frame.type === 'ack' ? frame.message : ([one, two].find((a) => a.status === 201)!.body.message as Message);
      expect(winner.attachments).toEqual([file]);
      expect(await fileRow(t, file.id)).toEqual({ state: 'stored', message_seq: winner.seq });
    }
  });

  it('answers the same clientId again with the same message, files included, and stores one', async () => {
    const { alice, room } = await roomOfFour(() => t.app);
    const file = await upload(room.id, alice);
    const clientId = randomUUID();
    const first = await send(alice, room.id, { body: 'retried', clientId, attachments: [file.id] });
    expect(first.status).toBe(201);
    const again = await send(alice, room.id, { body: 'retried', clientId, attachments: [file.id] });
    expect(again.status).toBe(200);
    expect(again.body.message).toEqual(first.body.message);
    // And over the socket: the ack is the same message.
    const socket = await open(alice);
    socket.send({ type: 'send', roomId: room.id, body: 'retried', clientId, attachments: [file.id] });
    expect((await socket.waitFor<Frame<'ack'>>(isAck(clientId))).message).toEqual(first.body.message);

    // Two at once with the same clientId: one message either way.
    const other = await upload(room.id, alice);
    const racing = randomUUID();
    const [a, b] = await Promise.all([0, 1].map(() => send(alice, room.id, { body: 'twice at once', clientId: racing, attachments: [other.id] })));
    expect([a!.status, b!.status].sort()).toEqual([200, 201]);
    expect(a!.body.message).toEqual(b!.body.message);
    expect((a!.body.message as Message).attachments).toEqual([other]);
    const rows = await t.database.db.selectFrom('messages').select('seq').where('room_id', '=', room.id).where('client_id', '=', racing).execute();
    expect(rows).toHaveLength(1);
  });

  it('keeps the files through an edit and a reaction, in the answer, the frame, the page and changedAfter', async () => {
    const { alice, bob, room } = await roomOfFour(() => t.app);
    const file = await upload(room.id, alice, { name: 'photo.jpg', mime: 'image/jpeg', width: 10, height: 20 });
    const sent = (await send(alice, room.id, { body: 'before', attachments: [file.id] })).body.message as Message;
    const bobSocket = await open(bob);
    const { lastChange } = await api.page(bob, room.id, '?changedAfter=0');
    const edited = await api.edited(alice, room.id, sent.seq, 'after');
    expect(edited).toMatchObject({ body: 'after', attachments: [file] });
    const frame = await bobSocket.waitFor<Frame<'message_updated'>>((f) => f.type === 'message_updated' && f.message.seq === sent.seq);
    expect(frame.message).toEqual(edited);
    expect((await api.react(bob, room.id, sent.seq, '👍')).status).toBe(204);
    const changed = await api.page(bob, room.id, `?changedAfter=${lastChange}`);
    expect(changed.messages.map((m) => [m.seq, m.body, m.attachments])).toEqual([[sent.seq, 'after', [file]]]);
    expect((await messagesOf(bob, room.id)).find((m) => m.seq === sent.seq)!.attachments).toEqual([file]);
  });

  it('releases a deleted message’s files (moderator or author): the tombstone carries none, everywhere', async () => {
    const { alice, bob, moderator, room } = await roomOfFour(() => t.app);
    const bobSocket = await open(bob);
    const ownFile = await upload(room.id, alice);
    const modFiles = [await upload(room.id, alice), await upload(room.id, alice)];
    const own = (await send(alice, room.id, { body: 'mine', attachments: [ownFile.id] })).body.message as Message;
    const moderated = (await send(alice, room.id, { body: 'to moderate', attachments: modFiles.map((f) => f.id) })).body.message as Message;
    const keeps = await upload(room.id, alice);
    const kept = (await send(alice, room.id, { body: 'kept', attachments: [keeps.id] })).body.message as Message;

    for (const [who, message, files] of [[alice, own, [ownFile]], [moderator, moderated, modFiles]] as Array<[Session, Message, FileInfo[]]>) {
      expect((await api.remove(who, room.id, message.seq)).status).toBe(204);
      // Released in the delete's transaction, then purged (row and bytes) once it committed.
      for (const file of files) {
        expect([undefined, 'released']).toContain((await fileRow(t, file.id))?.state);
        await expect.poll(() => fileRow(t, file.id)).toBeUndefined();
      }
      const frame = await bobSocket.waitFor<Frame<'message_updated'>>((f) => f.type === 'message_updated' && f.message.seq === message.seq);
      expect(frame.message).toMatchObject({ body: '', attachments: [], deletedAt: expect.any(String) });
    }
    const page = await messagesOf(bob, room.id);
    expect(page.filter((m) => m.deletedAt).map((m) => [m.seq, m.attachments])).toEqual([[own.seq, []], [moderated.seq, []]]);
    expect(page.find((m) => m.seq === kept.seq)!.attachments).toEqual([keeps]);
    expect((await api.page(bob, room.id, '?changedAfter=0')).messages.map((m) => m.attachments)).toEqual([[], []]);
    expect(await fileRow(t, keeps.id)).toEqual({ state: 'stored', message_seq: kept.seq });
    // A released file cannot be sent again either.
    const again = await send(alice, room.id, { body: 'again', attachments: [ownFile.id] });
    expect(again.body.error?.code).toBe('invalid_attachment');
  });

  it('reads a page’s files in one query, and a page without files asks nothing more', async () => {
    const { alice, bob, room } = await roomOfFour(() => t.app);
    for (let i = 0; i < 3; i += 1) {
      const files = [await upload(room.id, alice), await upload(room.id, alice)];
      expect((await send(alice, room.id, { body: `files ${i}`, attachments: files.map((f) => f.id) })).status).toBe(201);
    }
    const read = async (query: string) => {
      t.queries.length = 0;
      const messages = await messagesOf(bob, room.id, query);
      return { messages, fileQueries: t.queries.filter((sql) => sql.startsWith('select "id", "room_id", "uploader_id"')) };
    };
    const withFiles = await read('');
    expect(withFiles.messages.filter((m) => m.attachments.length === 2)).toHaveLength(3);
    expect(withFiles.fileQueries).toHaveLength(1);
    const without = await read('?before=2');
    expect(without.messages.map((m) => m.attachments)).toEqual([[]]);
    expect(without.fileQueries).toHaveLength(0);
  });
});
