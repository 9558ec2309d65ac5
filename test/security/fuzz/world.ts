/**
 * The fuzz world, built per test file on a fresh app: a fuzzer owning a public and a
 * private room, someone else's rooms (one the fuzzer is in, one private, one public it is
 * not in), a plain member of the fuzzer's room for the moderation endpoints, a logged-out
 * session and a decoy account whose password nobody sends. `fixtures` are the world's
 * facts per endpoint (targets.ts): valid values, what is always refused, how to undo a success.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import type { Room } from '../../../src/shared/protocol.js';
import { as, logIn, signUp, startTestApp, TEST_PASSWORD, uniqueName, type Session, type TestApp } from '../../support/app.js';
import type { Dialect } from '../../support/databases.js';
import { uploadFile } from '../../support/files.js';
import { storedUpload } from '../../support/stored-uploads.js';
import { connectWs, type WsClient } from '../../support/ws-client.js';
import { searchRefused } from './search-queries.js';
import type { Fixture } from './targets.js';

export interface FuzzWorld {
  t: TestApp;
  base: string;
  /** Replaced when a fuzzed logout succeeds (the repair logs in again). */
  fuzzer: Session;
  ended: Session;
  other: Session;
  /** Public, the fuzzer owns it. */
  room: Room;
  /** Private, the fuzzer owns it. */
  privateRoom: Room;
  /** Public, someone else's; the fuzzer is a member. */
  leaveRoom: Room;
  othersPrivate: Room;
  /** Public, someone else's; the fuzzer is not in it. */
  othersPublic: Room;
  /**
   * Files the fuzzer may not attach to a message in `room`: another member's upload there,
   * the fuzzer's own upload to its private room, and one of its uploads already sent.
   */
  unattachable: string[];
  fixtures: Record<string, Fixture>;
  /** A socket of the fuzzer, closed with the world. */
  connect(): Promise<WsClient>;
}

export function useFuzzWorld(dialect: Dialect): FuzzWorld {
  const w = {} as FuzzWorld;
  const sockets: WsClient[] = [];
  beforeAll(async () => {
    // Files in the database: the uploads below leave nothing on disk.
    // Searches unthrottled too (test/support/unthrottled.ts does not lift this one).
    const t = await startTestApp(dialect, { FILE_STORAGE: 'database', RATE_LIMIT_SEARCH_PER_MINUTE: '1000000' });
    w.t = t;
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    w.base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    w.connect = async () => {
      const client = await connectWs(w.base, { cookie: w.fuzzer.cookie });
      sockets.push(client);
      return client;
    };
    w.fuzzer = await signUp(t.app, uniqueName('fuzzer'));
    w.other = await signUp(t.app, uniqueName('other'));
    w.ended = await signUp(t.app, uniqueName('ended'));
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: as(w.ended) });
    const decoyName = (await signUp(t.app, uniqueName('decoy'))).user.username;
    const create = async (owner: Session, fields: object) =>
      (await t.app.inject({ method: 'POST', url: '/api/v1/rooms', headers: as(owner), payload: { name: uniqueName('Fuzz'), ...fields } })).json()
        .room as Room;
    w.room = await create(w.fuzzer, {});
    w.privateRoom = await create(w.fuzzer, { isPrivate: true });
    w.leaveRoom = await create(w.other, {});
    w.othersPrivate = await create(w.other, { isPrivate: true });
    w.othersPublic = await create(w.other, {});
    await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${w.leaveRoom.id}/join`, headers: as(w.fuzzer) });
    await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${w.room.id}/messages`, headers: as(w.fuzzer), payload: { body: 'seed', clientId: 'seed' } });
    // The target of the moderation endpoints: a plain member of the fuzzer's room.
    const rejoinOther = async () => {
      await t.app.inject({ method: 'DELETE', url: `/api/v1/rooms/${w.room.id}/bans/${w.other.user.id}`, headers: as(w.fuzzer) });
      await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${w.room.id}/join`, headers: as(w.other) });
      await t.app.inject({
        method: 'PUT',
        url: `/api/v1/rooms/${w.room.id}/members/${w.other.user.id}/role`,
        headers: as(w.fuzzer),
        payload: { role: 'member' },
      });
    };
    await rejoinOther();

    const newInviteId = async () =>
      (await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${w.privateRoom.id}/invites`, headers: as(w.fuzzer), payload: {} })).json().id as string;
    let liveInviteId = await newInviteId();

    let counter = 0;
    const fresh = (prefix: string) => `${prefix}${++counter}x${Math.floor(Math.random() * 1e6)}`;
    const sent = await storedUpload(t, { roomId: w.room.id, uploaderId: w.fuzzer.user.id });
    await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${w.room.id}/messages`, headers: as(w.fuzzer), payload: { body: '', clientId: 'sent-file', attachments: [sent.id] } });
    w.unattachable = [
      (await storedUpload(t, { roomId: w.room.id, uploaderId: w.other.user.id })).id,
      (await storedUpload(t, { roomId: w.privateRoom.id, uploaderId: w.fuzzer.user.id })).id,
      sent.id,
    ];
    // The fuzzer's messages that the edit, reaction and delete endpoints aim at; a delete that succeeds is repaired with a new one.
    const newMessageSeq = async () =>
      (await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${w.room.id}/messages`, headers: as(w.fuzzer), payload: { body: fresh('target '), clientId: fresh('t') } })).json()
        .message.seq as number;
    const editSeq = await newMessageSeq();
    // The fuzzer's own upload (no message names it: only the fuzzer sees it); a text file has no thumbnail.
    const fileId = (await uploadFile(t.app, w.fuzzer, w.room.id, { name: 'fuzz.txt', data: Buffer.from('fuzzed file') })).id;
    let doomedSeq = await newMessageSeq();
    const onMessage = { roomId: () => w.room.id, seq: () => String(editSeq) };
    const onReaction = { ...onMessage, emoji: () => '👍' };
    const inRoom = { roomId: () => w.room.id };
    const member = { roomId: () => w.room.id, userId: () => w.other.user.id };
    w.fixtures = {
      'POST /api/v1/rooms/:roomId/members/:userId/remove': { params: member, repair: rejoinOther },
      'PUT /api/v1/rooms/:roomId/bans/:userId': { params: member, repair: rejoinOther },
      // Nobody is banned while the fuzzer runs, so even the untouched request is a 404.
      'DELETE /api/v1/rooms/:roomId/bans/:userId': { params: member, alwaysRefused: true },
      'PUT /api/v1/rooms/:roomId/members/:userId/role': { params: member, validBody: () => ({ role: 'member' }), repair: rejoinOther },
      'POST /api/v1/auth/register': {
        public: true,
        validBody: () => {
          const username = fresh('fz');
          return { username, email: `${username}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD };
        },
      },
      // Never the right password: every login attempt here must fail.
      'POST /api/v1/auth/login': { public: true, validBody: () => ({ username: decoyName, password: 'not the password at all' }), alwaysRefused: true },
      'POST /api/v1/auth/logout': {
        repair: async () => {
          w.fuzzer = await logIn(t.app, w.fuzzer.user.username, TEST_PASSWORD);
        },
      },
      'DELETE /api/v1/auth/sessions/:sessionId': { params: { sessionId: () => '5b1f2a52-7a4c-4a55-9c7e-6c0f1c7f0000' }, alwaysRefused: true },
      'POST /api/v1/auth/password': {
        validBody: () => ({ currentPassword: 'not the current password', newPassword: 'another long passphrase' }),
        alwaysRefused: true,
      },
      'POST /api/v1/rooms': { validBody: () => ({ name: fresh('Fz') }) },
      'POST /api/v1/rooms/join': { validBody: () => ({ name: w.room.name }) },
      'GET /api/v1/rooms/:roomId': { params: inRoom },
      'POST /api/v1/rooms/:roomId/join': { params: inRoom },
      'POST /api/v1/rooms/:roomId/leave': {
        params: { roomId: () => w.leaveRoom.id },
        repair: async () => {
          await t.app.inject({ method: 'POST', url: `/api/v1/rooms/${w.leaveRoom.id}/join`, headers: as(w.fuzzer) });
        },
      },
      'GET /api/v1/rooms/:roomId/members': { params: inRoom },
      'POST /api/v1/rooms/:roomId/read': { params: inRoom, validBody: () => ({ seq: 0 }) },
      'PUT /api/v1/rooms/:roomId/notifications': { params: inRoom, validBody: () => ({ level: 'mentions' }) },
      'POST /api/v1/rooms/:roomId/invites': { params: { roomId: () => w.privateRoom.id }, validBody: () => ({}) },
      'GET /api/v1/rooms/:roomId/invites': { params: { roomId: () => w.privateRoom.id } },
      // A live invite of the fuzzer's private room; a revoke that succeeds is repaired with a new one.
      'DELETE /api/v1/rooms/:roomId/invites/:inviteId': {
        params: { roomId: () => w.privateRoom.id, inviteId: () => liveInviteId },
        repair: async () => {
          liveInviteId = await newInviteId();
        },
      },
      'POST /api/v1/invites/:code/accept': { params: { code: () => 'never-issued-invite-code' }, alwaysRefused: true },
      'GET /api/v1/rooms/:roomId/messages': { params: inRoom, refusedQueries: ['before=5&after=1', 'changedAfter=0&after=1', 'before=5&changedAfter=0'] },
      'PATCH /api/v1/rooms/:roomId/messages/:seq': { params: onMessage, validBody: () => ({ body: fresh('edited ') }) },
      'DELETE /api/v1/rooms/:roomId/messages/:seq': {
        params: { roomId: () => w.room.id, seq: () => String(doomedSeq) },
        repair: async () => {
          doomedSeq = await newMessageSeq();
        },
      },
      'GET /api/v1/rooms/:roomId/messages/:seq/edits': { params: onMessage },
      'PUT /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji': { params: onReaction },
      'DELETE /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji': { params: onReaction },
      // Managing rooms: none of these may change the world, so each valid request is refused
      // (adding a member already in, handing the room to oneself, deleting someone else's room).
      'GET /api/v1/invites/:code': { public: true, params: { code: () => 'never-issued-invite-code' }, alwaysRefused: true },
      'POST /api/v1/rooms/:roomId/members': { params: inRoom, validBody: () => ({ username: w.other.user.username }), alwaysRefused: true },
      'GET /api/v1/rooms/:roomId/bans': { params: inRoom },
      // The private room has nobody else to hand it to, whatever id a mutation puts in.
      'PUT /api/v1/rooms/:roomId/owner': { params: { roomId: () => w.privateRoom.id }, validBody: () => ({ userId: w.fuzzer.user.id }), alwaysRefused: true },
      'DELETE /api/v1/rooms/:roomId': { params: { roomId: () => w.othersPublic.id }, alwaysRefused: true },
      'POST /api/v1/rooms/:roomId/messages': { params: inRoom, validBody: () => ({ body: fresh('fuzz message '), clientId: fresh('c') }) },
      // The fuzzer's DM with `other`: opening it again is a 200, nothing to undo.
      'POST /api/v1/dms': { validBody: () => ({ userIds: [w.other.user.id] }) },
      // A JSON body is never an upload, whatever it says: every case is refused (mostly 415).
      'POST /api/v1/rooms/:roomId/files': { params: inRoom, alwaysRefused: true },
      'GET /api/v1/files/:fileId': { params: { fileId: () => fileId } },
      'GET /api/v1/files/:fileId/thumbnail': { params: { fileId: () => fileId }, alwaysRefused: true },
      // Search: every case sends a q (it is required) unless it mutates q itself; searchRefused
      // are queries only the service can refuse (filters, cursors, rooms the fuzzer is not in).
      'GET /api/v1/search': { validQuery: () => ({ q: 'seed' }), refusedQueries: searchRefused(w) },
      // A plain HTTP GET (no Upgrade) from this site with a live cookie: never a socket.
      'GET /api/v1/ws': { alwaysRefused: true, headers: { origin: 'http://localhost:80' } },
    };
  });
  afterAll(async () => {
    await Promise.all(sockets.map((client) => client.close()));
    await w.t?.close();
  });
  return w;
}
