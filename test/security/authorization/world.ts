/**
 * The world the authorization rows need, built through the API on a fresh app per test
 * file (`useWorld`; `perTest` builds a fresh world for every test in the same app).
 *
 * A private room R (owner O, moderators D and D2, members M and T) and a public room P
 * (the same people). The callers who must be refused: logged out (no cookie, and a
 * cookie whose session ended), a non-member, a member of another room only (a private
 * room Q they share with O), a member who left R and P, a user holding an expired invite
 * to R, a member kicked from R and P and a member banned from R and P (both with sockets
 * open since before the kick or ban, a second socket each, and one opened afterwards).
 * Every socket's `fromR`/`fromP` is the index from which nothing of R (or P) may appear.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { Room } from '../../../src/shared/protocol.js';
import { signUp, startTestApp, uniqueName, type Session, type TestApp } from '../../support/app.js';
import type { Dialect } from '../../support/databases.js';
import { storedUpload } from '../../support/stored-uploads.js';
import { connectWs, type WsClient } from '../../support/ws-client.js';
import { uploadWorldFiles } from './file-rows.js';
import { createKit, isMember, isMessageIn, SIGNED_IN_KINDS, type Kit, type World } from './kit.js';

/** A running app with a world in it, and what the tests do with both. */
export interface Stage {
  t: TestApp;
  base: string;
  kit: Kit;
  world: World;
  /** A socket of the session, closed with the world. */
  connect(session: Session): Promise<WsClient>;
  /** A message in General that every open socket of the world must receive: what was sent before it has arrived. */
  barrier(): Promise<void>;
  /** Every membership (with its role) and every ban in R and P, as sorted lines. */
  membershipOfRP(): Promise<string[]>;
}

/** Starts an app for the file (and closes it); builds the world once, or before each test. */
export function useWorld(dialect: Dialect, options: { perTest?: boolean } = {}): Stage {
  const stage = {} as Stage;
  let sockets: WsClient[] = [];
  const closeSockets = async () => {
    await Promise.all(sockets.map((client) => client.close()));
    sockets = [];
  };
  beforeAll(async () => {
    // Files in the database: the uploads below leave nothing on disk.
    // Searches unthrottled too (test/support/unthrottled.ts does not lift this one).
    stage.t = await startTestApp(dialect, { FILE_STORAGE: 'database', RATE_LIMIT_SEARCH_PER_MINUTE: '1000000' });
    await stage.t.app.listen({ port: 0, host: '127.0.0.1' });
    stage.base = `http://127.0.0.1:${(stage.t.app.server.address() as AddressInfo).port}`;
    stage.kit = createKit(stage.t);
    stage.connect = async (session) => {
      const client = await connectWs(stage.base, { cookie: session.cookie });
      sockets.push(client);
      return client;
    };
    stage.barrier = async () => {
      const { world } = stage;
      const id = await stage.kit.sendHttp(world.O, world.general, `barrier ${randomUUID()}`);
      await Promise.all(
        [world.ownerSocket, world.memberSocket, ...world.listeners.map((l) => l.client)]
          .filter((client) => client.socket.readyState === WebSocket.OPEN)
          .map((client) => client.waitFor(isMessageIn(world.general.id, id))),
      );
    };
    stage.membershipOfRP = async () => {
      const roomIds = [stage.world.R.id, stage.world.P.id];
      const db = stage.t.database.db;
      const members = await db.selectFrom('room_members').select(['room_id', 'user_id', 'role']).where('room_id', 'in', roomIds).execute();
      const bans = await db.selectFrom('room_bans').select(['room_id', 'user_id']).where('room_id', 'in', roomIds).execute();
      return [...members.map((m) => `member ${m.room_id} ${m.user_id} ${m.role}`), ...bans.map((b) => `ban ${b.room_id} ${b.user_id}`)].sort();
    };
    if (!options.perTest) stage.world = await buildWorld(stage);
  });
  if (options.perTest) {
    beforeEach(async () => {
      stage.world = await buildWorld(stage);
    });
    afterEach(closeSockets);
  }
  afterAll(async () => {
    await closeSockets();
    await stage.t?.close();
  });
  return stage;
}

async function buildWorld(stage: Stage): Promise<World> {
  const { t, connect } = stage;
  const { must, post, createRoom, inviteCode, sendHttp } = stage.kit;
  const rMark = `vault${randomUUID().slice(0, 8)}`;
  const pMark = `plaza${randomUUID().slice(0, 8)}`;
  const O = await signUp(t.app, uniqueName('owner'));
  const M = await signUp(t.app, uniqueName('member'));
  const general = ((await must(O, { method: 'GET', url: '/api/v1/rooms' }, 200)).json() as Room[]).find((r) => r.name === 'General')!;
  const R = await createRoom(O, { name: `${rMark}_room`, description: `${rMark} description`, isPrivate: true });
  const P = await createRoom(O, { name: `${pMark}_room`, description: `${pMark} description` });
  const Q = await createRoom(O, { isPrivate: true });
  await post(M, `/api/v1/invites/${await inviteCode(O, R.id)}/accept`);
  await post(M, `/api/v1/rooms/${P.id}/join`);
  // The bystander, two moderators, and the two members who are about to be kicked and banned.
  const T = await signUp(t.app, uniqueName('bystander'));
  const D = await signUp(t.app, uniqueName('mod'));
  const D2 = await signUp(t.app, uniqueName('mod'));
  const kicked = await signUp(t.app, uniqueName('kicked'));
  const banned = await signUp(t.app, uniqueName('banned'));
  for (const session of [T, D, D2, kicked, banned]) {
    await post(session, `/api/v1/invites/${await inviteCode(O, R.id)}/accept`);
    await post(session, `/api/v1/rooms/${P.id}/join`);
  }
  for (const moderator of [D, D2]) {
    for (const room of [R, P]) {
      await must(O, { method: 'PUT', url: `/api/v1/rooms/${room.id}/members/${moderator.user.id}/role`, payload: { role: 'moderator' } }, 204);
    }
  }

  const stranger = await signUp(t.app, uniqueName('stranger'));
  const outsider = await signUp(t.app, uniqueName('outsider'));
  await post(outsider, `/api/v1/invites/${await inviteCode(O, Q.id)}/accept`);
  const leaver = await signUp(t.app, uniqueName('leaver'));
  await post(leaver, `/api/v1/invites/${await inviteCode(O, R.id)}/accept`);
  await post(leaver, `/api/v1/rooms/${P.id}/join`);
  const late = await signUp(t.app, uniqueName('late'));
  const ended = await signUp(t.app, uniqueName('ended'));
  await post(ended, '/api/v1/auth/logout', undefined, 204);
  const ender = await signUp(t.app, uniqueName('ender'));
  await post(ender, `/api/v1/invites/${await inviteCode(O, R.id)}/accept`);
  const loginTarget = await signUp(t.app, uniqueName('target'));
  // Uploads waiting to be sent, made while everyone here was still a member of R and P.
  const uploads: World['uploads'] = {};
  for (const room of [R, P]) {
    uploads[room.id] = {};
    for (const session of [O, D, M, T, leaver, kicked, banned]) {
      uploads[room.id]![session.user.id] = (await storedUpload(t, { roomId: room.id, uploaderId: session.user.id, name: `${room === R ? rMark : pMark}.txt` })).id;
    }
  }

  // The expired invite: issued for one hour, accepted after the clock passed it.
  const expiredCode = await inviteCode(O, R.id, { expiresInHours: 1 });
  t.clock.advance(61 * 60 * 1000);

  const ownerSessionIds = ((await must(O, { method: 'GET', url: '/api/v1/auth/sessions' }, 200)).json() as Array<{ id: string }>).map(
    (s) => s.id,
  );
  const world: World = {
    O,
    M,
    T,
    D,
    D2,
    R,
    P,
    Q,
    general,
    rMark,
    pMark,
    callers: {
      'logged-out': { kind: 'logged-out', signedIn: false },
      'ended-session': { kind: 'ended-session', session: ended, signedIn: false },
      'non-member': { kind: 'non-member', session: stranger, signedIn: true },
      'member-of-another-room': { kind: 'member-of-another-room', session: outsider, signedIn: true },
      'removed-member': { kind: 'removed-member', session: leaver, signedIn: true },
      'expired-invite-holder': { kind: 'expired-invite-holder', session: late, signedIn: true },
      'kicked-member': { kind: 'kicked-member', session: kicked, signedIn: true },
      'banned-member': { kind: 'banned-member', session: banned, signedIn: true },
    },
    ender,
    loginTarget,
    ownerSessionIds,
    expiredCode,
    neverIssuedCode: `never-issued-${randomUUID()}`,
    unknownRoomId: randomUUID(),
    listeners: [],
    ownerSocket: undefined as unknown as WsClient,
    memberSocket: undefined as unknown as WsClient,
    membershipAtStart: [],
    notes: {},
    files: { attachedInR: '', attachedInP: '', pendingInR: '' },
    uploads,
  };

  // Every socket is open before anything happens in R.
  world.ownerSocket = await connect(O);
  world.memberSocket = await connect(M);
  for (const kind of SIGNED_IN_KINDS) {
    const client = await connect(world.callers[kind].session!);
    world.listeners.push({ label: `${kind} socket`, client, fromR: 0, fromP: 0 });
  }
  // The removed member's socket was open while they were in R and P: from their own
  // `left` frame on, nothing more of either room.
  const leaverSocket = world.listeners.find((l) => l.label === 'removed-member socket')!;
  await post(leaver, `/api/v1/rooms/${R.id}/leave`, undefined, 204);
  await post(leaver, `/api/v1/rooms/${P.id}/leave`, undefined, 204);
  await leaverSocket.client.waitFor(isMember(R.id, leaver.user.id, 'left'));
  await leaverSocket.client.waitFor(isMember(P.id, leaver.user.id, 'left'));
  leaverSocket.fromR = leaverSocket.client.frames.findIndex(isMember(R.id, leaver.user.id, 'left')) + 1;
  leaverSocket.fromP = leaverSocket.client.frames.findIndex(isMember(P.id, leaver.user.id, 'left')) + 1;
  world.listeners.push({ label: 'removed-member socket opened after leaving', client: await connect(leaver), fromR: 0, fromP: 0 });

  // The kicked and the banned member, each with a second socket (another tab): both hear
  // R and P up to the kick or ban, and from their own `removed` frame on, nothing more.
  // The owner kicks from R and bans from P; the moderator D kicks from P and bans from R.
  const removedUsers = { 'kicked-member': kicked, 'banned-member': banned } as const;
  for (const kind of ['kicked-member', 'banned-member'] as const) {
    world.listeners.push({ label: `${kind} second socket`, client: await connect(removedUsers[kind]), fromR: 0, fromP: 0 });
  }
  const removedListeners = world.listeners.filter((l) => l.label.startsWith('kicked-member') || l.label.startsWith('banned-member'));
  const heardR = await sendHttp(O, R, `${rMark} before the kick and the ban`);
  const heardP = await sendHttp(O, P, `${pMark} before the kick and the ban`);
  for (const listener of removedListeners) {
    await listener.client.waitFor(isMessageIn(R.id, heardR));
    await listener.client.waitFor(isMessageIn(P.id, heardP));
  }
  await must(O, { method: 'POST', url: `/api/v1/rooms/${R.id}/members/${kicked.user.id}/remove` }, 204);
  await must(D, { method: 'POST', url: `/api/v1/rooms/${P.id}/members/${kicked.user.id}/remove` }, 204);
  await must(D, { method: 'PUT', url: `/api/v1/rooms/${R.id}/bans/${banned.user.id}` }, 204);
  await must(O, { method: 'PUT', url: `/api/v1/rooms/${P.id}/bans/${banned.user.id}` }, 204);
  for (const listener of removedListeners) {
    const userId = (listener.label.startsWith('kicked') ? kicked : banned).user.id;
    await listener.client.waitFor(isMember(R.id, userId, 'removed'));
    await listener.client.waitFor(isMember(P.id, userId, 'removed'));
    listener.fromR = listener.client.frames.findIndex(isMember(R.id, userId, 'removed')) + 1;
    listener.fromP = listener.client.frames.findIndex(isMember(P.id, userId, 'removed')) + 1;
  }
  for (const kind of ['kicked-member', 'banned-member'] as const) {
    world.listeners.push({ label: `${kind} socket opened after the removal`, client: await connect(removedUsers[kind]), fromR: 0, fromP: 0 });
  }
  // A member of R whose session is logged out while their socket is open.
  const enderSocket = await connect(ender);
  await post(ender, '/api/v1/auth/logout', undefined, 204);
  world.listeners.push({ label: 'socket of a member whose session was logged out', client: enderSocket, fromR: enderSocket.frames.length, fromP: 0 });
  // Messages the edit, delete and reaction rows aim at (in R they carry rMark: no outsider may see them change).
  for (const [room, mark] of [[R, rMark], [P, pMark]] as const) {
    const seqOf = async (session: Session, body: string) =>
      (await post(session, `/api/v1/rooms/${room.id}/messages`, { body, clientId: randomUUID() }, 201)).json().message.seq as number;
    world.notes[room.id] = { byOwner: await seqOf(O, `${mark} by the owner`), byBystander: await seqOf(T, `${mark} by the bystander`) };
  }
  world.files = await uploadWorldFiles(t, world);
  stage.world = world;
  world.membershipAtStart = await stage.membershipOfRP();
  return world;
}
