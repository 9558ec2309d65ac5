/**
 * The authorization matrix (issue 4), on SQLite and PostgreSQL.
 *
 * A private room R (owner O, moderators D and D2, members M and T) and a public room P
 * (the same people). The callers who must be refused: logged out (no cookie, and a
 * cookie whose session ended), a non-member, a member of another room only (a private
 * room Q they share with O), a member who left R and P, a user holding an expired invite
 * to R, a member kicked from R and P and a member banned from R and P (both with sockets
 * open since before the kick or ban).
 *
 * Every HTTP endpoint under /api/v1 has a row: the coverage test compares the rows with
 * the routes the running app's router serves. Each caller gets exactly the answer the
 * row gives (401 logged out; 404 for R, byte-for-byte the answer for a room that does
 * not exist; 403 `not_member` on P for member-only actions, including inviting and
 * moderating; 403 `banned` for the banned member's ways back into P). The rank rules
 * (a plain member moderates nobody; a moderator acts on plain members only; nobody acts
 * on the owner or on themselves) are checked on R and P with the members as callers.
 * Every client frame type (send, typing, ping) is tried by every caller on their own
 * socket, and — the point of it all — while O and M talk, type, join and leave, none of
 * those sockets receives any frame that mentions R (its id, name, description or any of
 * its message bodies), nor, after their own `removed` frame, R or P for the kicked and
 * the banned member.
 *
 * The tests in one dialect's block share one world and run in order: the scenario, the
 * matrix rows (whose positive controls add more traffic to R), then the isolation check
 * over everything the sockets received, and last the changes allowed: a stranger (the
 * kicked member too, but not the banned one) joins P, the kicked member comes back to R
 * by invite, the banned one once the ban is lifted — which proves their sockets were
 * listening all along.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Member, Room, ServerFrame } from '../../src/shared/protocol.js';
import { as, logIn, signUp, startTestApp, TEST_PASSWORD, uniqueName, type Session, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/databases.js';
import { attemptWs, connectWs, WS_PATH, type WsClient } from '../support/ws-client.js';
import {
  apiRoutes,
  changedTables,
  documentedRoutes,
  errorBodyProblem,
  refusalProblem,
  routeKey,
  snapshotDatabase,
} from './security-harness.js';

// ---------------------------------------------------------------------------------------
// Callers

const CALLER_KINDS = [
  'logged-out',
  'ended-session',
  'non-member',
  'member-of-another-room',
  'removed-member',
  'expired-invite-holder',
  'kicked-member',
  'banned-member',
] as const;
type CallerKind = (typeof CALLER_KINDS)[number];
const SIGNED_IN_KINDS = CALLER_KINDS.filter((kind) => kind !== 'logged-out' && kind !== 'ended-session');

const CALLER_LABELS: Record<CallerKind, string> = {
  'logged-out': 'a logged-out caller (no cookie)',
  'ended-session': 'a caller whose session was logged out (stale cookie)',
  'non-member': 'a signed-in non-member',
  'member-of-another-room': 'a member of another room (shared with the owner) only',
  'removed-member': 'a removed member (joined R and P, then left)',
  'expired-invite-holder': 'a user holding an expired invite to R',
  'kicked-member': 'a member kicked from R (by the owner) and P (by a moderator)',
  'banned-member': 'a member banned from R (by a moderator) and P (by the owner)',
};

interface Caller {
  kind: CallerKind;
  /** The cookie and CSRF token sent; undefined for no cookie at all. */
  session?: Session;
  signedIn: boolean;
}

// ---------------------------------------------------------------------------------------
// The matrix rows

interface Expectation {
  status: number;
  /** The error code, for refusals. */
  code?: string;
}
const ok = (status: number): Expectation => ({ status });
const refused = (status: number, code: string): Expectation => ({ status, code });
const AUTH_REQUIRED = refused(401, 'auth_required');
const HIDDEN = refused(404, 'not_found');

interface Probe {
  method: string;
  url: string;
  payload?: unknown;
}

/** A row about one room (R or P in its URL): the answer depends on membership. */
interface RoomRow {
  key: string;
  /** `self`: the session sending it (moderation rows aimed at the caller themselves). */
  probe(room: Room, world: World, self: Session | undefined): Probe;
  /** What a signed-in caller who is not in public P gets; 'allowed' rows change state and run last. */
  onPublic: Expectation | 'allowed-last';
  /** What the member banned from P gets instead, where it differs (the ways back in). */
  onPublicBanned?: Expectation;
  /**
   * Positive controls on R and P: the plain member M, the moderator D and the owner O
   * ('skip' where it would change the membership of the world).
   */
  member: Expectation | 'skip';
  moderator: Expectation | 'skip';
  owner: Expectation | 'skip';
}

/** A row not about R or P: the same answer for every signed-in caller. */
interface UserRow {
  key: string;
  /** public: no sign-in needed; user: 401 when logged out. */
  access: 'public' | 'user';
  probe(caller: Caller, world: World): Probe | Promise<Probe>;
  /** The answer to a signed-in caller ('skip': not sent with a live cookie, see the note). */
  signedIn: Expectation | 'skip';
  /** The answer to a logged-out caller (defaults to 401 for `user` rows). */
  loggedOut?: Expectation;
  /** Sent with a second session of the caller, so their main session survives (logout). */
  spareSession?: boolean;
  /** Extra checks on a 2xx answer to a signed-in caller; returns problems. */
  inspect?(response: LightMyRequestResponse, caller: Caller, world: World): string[];
  /** A request that must get byte-for-byte the same refusal (no existence oracle). */
  sameAs?(world: World): Probe;
}

/** The caller's own id (T's for a caller without a session, who is refused before it matters). */
const targetSelf = (world: World, self: Session | undefined) => (self ?? world.T).user.id;

const sendBody = (world: World, room: Room) => `${room.id === world.R.id ? world.rMark : world.pMark} body ${randomUUID()}`;

const ROOM_ROWS: RoomRow[] = [
  {
    key: 'GET /api/v1/rooms/:roomId',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}` }),
    onPublic: ok(200),
    member: ok(200),
    moderator: ok(200),
    owner: ok(200),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/join',
    probe: (room) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/join` }),
    onPublic: 'allowed-last',
    // A ban holds even against the public room's join.
    onPublicBanned: refused(403, 'banned'),
    member: ok(200),
    moderator: ok(200),
    owner: ok(200),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/leave',
    probe: (room) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/leave` }),
    onPublic: refused(403, 'not_member'),
    member: 'skip',
    moderator: 'skip',
    owner: 'skip',
  },
  {
    key: 'GET /api/v1/rooms/:roomId/members',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/members` }),
    onPublic: refused(403, 'not_member'),
    member: ok(200),
    moderator: ok(200),
    owner: ok(200),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/read',
    probe: (room) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/read`, payload: { seq: 0 } }),
    onPublic: refused(403, 'not_member'),
    member: ok(204),
    moderator: ok(204),
    owner: ok(204),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/invites',
    probe: (room) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/invites`, payload: {} }),
    // Not a member of P: asked to join first, like every member-only action.
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: ok(201),
    owner: ok(201),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/messages',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/messages` }),
    onPublic: refused(403, 'not_member'),
    member: ok(200),
    moderator: ok(200),
    owner: ok(200),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/messages',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/messages?after=0` }),
    onPublic: refused(403, 'not_member'),
    member: ok(200),
    moderator: ok(200),
    owner: ok(200),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/messages',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/messages?before=1000&limit=5` }),
    onPublic: refused(403, 'not_member'),
    member: ok(200),
    moderator: ok(200),
    owner: ok(200),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/messages',
    probe: (room, world) => ({
      method: 'POST',
      url: `/api/v1/rooms/${room.id}/messages`,
      payload: { body: sendBody(world, room), clientId: randomUUID() },
    }),
    onPublic: refused(403, 'not_member'),
    member: ok(201),
    moderator: ok(201),
    owner: ok(201),
  },
  // Moderation, aimed at the plain member T (a bystander) and at the caller themselves: an
  // outsider gets the room's answer before anything about the target; a plain member is
  // refused whoever the target is; the owner and moderators may not act on themselves.
  {
    key: 'POST /api/v1/rooms/:roomId/members/:userId/remove',
    probe: (room, world) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/members/${world.T.user.id}/remove` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: 'skip',
    owner: 'skip',
  },
  {
    key: 'POST /api/v1/rooms/:roomId/members/:userId/remove',
    probe: (room, world, self) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/members/${targetSelf(world, self)}/remove` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(400, 'validation_failed'),
    owner: refused(400, 'validation_failed'),
  },
  {
    key: 'PUT /api/v1/rooms/:roomId/bans/:userId',
    probe: (room, world) => ({ method: 'PUT', url: `/api/v1/rooms/${room.id}/bans/${world.T.user.id}` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: 'skip',
    owner: 'skip',
  },
  {
    key: 'PUT /api/v1/rooms/:roomId/bans/:userId',
    probe: (room, world, self) => ({ method: 'PUT', url: `/api/v1/rooms/${room.id}/bans/${targetSelf(world, self)}` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(400, 'validation_failed'),
    owner: refused(400, 'validation_failed'),
  },
  {
    key: 'DELETE /api/v1/rooms/:roomId/bans/:userId',
    // T is not banned: the owner and moderators get past authorization to "no such ban".
    probe: (room, world) => ({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/bans/${world.T.user.id}` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(404, 'not_found'),
    owner: refused(404, 'not_found'),
  },
  {
    key: 'DELETE /api/v1/rooms/:roomId/bans/:userId',
    // Above all, the banned member lifting their own ban.
    probe: (room, world, self) => ({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/bans/${targetSelf(world, self)}` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(404, 'not_found'),
    owner: refused(404, 'not_found'),
  },
  {
    key: 'PUT /api/v1/rooms/:roomId/members/:userId/role',
    probe: (room, world) => ({ method: 'PUT', url: `/api/v1/rooms/${room.id}/members/${world.T.user.id}/role`, payload: { role: 'member' } }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(403, 'forbidden'),
    // T stays a plain member (and every member of the room hears `role`).
    owner: ok(204),
  },
  {
    key: 'PUT /api/v1/rooms/:roomId/members/:userId/role',
    // Promoting oneself.
    probe: (room, world, self) => ({
      method: 'PUT',
      url: `/api/v1/rooms/${room.id}/members/${targetSelf(world, self)}/role`,
      payload: { role: 'moderator' },
    }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(403, 'forbidden'),
    owner: refused(403, 'forbidden'),
  },
];

/** Problems when a body names R (or P, for callers not in it) in any way. */
function leakProblems(text: string, world: World, alsoPublic: boolean): string[] {
  const secrets = [world.R.id, world.rMark, ...(alsoPublic ? [world.P.id, world.pMark] : [])];
  return secrets.filter((secret) => text.includes(secret)).map((secret) => `the answer mentions ${secret}`);
}

const USER_ROWS: UserRow[] = [
  {
    key: 'POST /api/v1/auth/register',
    access: 'public',
    probe: () => {
      const username = uniqueName('reg');
      return {
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { username, email: `${username}@example.com`, password: TEST_PASSWORD, confirmPassword: TEST_PASSWORD },
      };
    },
    signedIn: ok(201),
    loggedOut: ok(201),
  },
  {
    key: 'POST /api/v1/auth/login',
    access: 'public',
    probe: (_caller, world) => ({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: world.loginTarget.user.username, password: TEST_PASSWORD },
    }),
    // A login replaces the session of the cookie it comes with: the answer is the same for
    // everyone, so it is only sent by the logged-out callers.
    signedIn: 'skip',
    loggedOut: ok(200),
  },
  {
    key: 'POST /api/v1/auth/logout',
    access: 'user',
    probe: () => ({ method: 'POST', url: '/api/v1/auth/logout' }),
    signedIn: ok(204),
    spareSession: true,
  },
  {
    key: 'GET /api/v1/auth/session',
    access: 'user',
    probe: () => ({ method: 'GET', url: '/api/v1/auth/session' }),
    signedIn: ok(200),
    inspect: (response, caller) =>
      (response.json() as { user: { id: string } }).user.id === caller.session!.user.id ? [] : ['the session is not the caller’s'],
  },
  {
    key: 'GET /api/v1/auth/sessions',
    access: 'user',
    probe: () => ({ method: 'GET', url: '/api/v1/auth/sessions' }),
    signedIn: ok(200),
    inspect: (response, _caller, world) =>
      world.ownerSessionIds.filter((id) => response.body.includes(id)).map((id) => `lists the owner’s session ${id}`),
  },
  {
    key: 'DELETE /api/v1/auth/sessions/:sessionId',
    access: 'user',
    // Someone else's session: as if it did not exist.
    probe: (_caller, world) => ({ method: 'DELETE', url: `/api/v1/auth/sessions/${world.ownerSessionIds[0]}` }),
    signedIn: HIDDEN,
  },
  {
    key: 'POST /api/v1/auth/password',
    access: 'user',
    probe: () => ({
      method: 'POST',
      url: '/api/v1/auth/password',
      payload: { currentPassword: 'not the current password', newPassword: 'a different long passphrase' },
    }),
    signedIn: refused(400, 'validation_failed'),
  },
  {
    key: 'GET /api/v1/me',
    access: 'user',
    probe: () => ({ method: 'GET', url: '/api/v1/me' }),
    signedIn: ok(200),
    inspect: (response, caller) => ((response.json() as { id: string }).id === caller.session!.user.id ? [] : ['not the caller’s profile']),
  },
  {
    key: 'GET /api/v1/rooms',
    access: 'user',
    probe: () => ({ method: 'GET', url: '/api/v1/rooms' }),
    signedIn: ok(200),
    inspect: (response, _caller, world) => leakProblems(response.body, world, true),
  },
  {
    key: 'GET /api/v1/rooms/directory',
    access: 'user',
    probe: () => ({ method: 'GET', url: '/api/v1/rooms/directory' }),
    signedIn: ok(200),
    inspect: (response, _caller, world) => leakProblems(response.body, world, false),
  },
  {
    key: 'GET /api/v1/rooms/directory',
    access: 'user',
    probe: (_caller, world) => ({ method: 'GET', url: `/api/v1/rooms/directory?q=${encodeURIComponent(world.R.name)}` }),
    signedIn: ok(200),
    inspect: (response, _caller, world) => leakProblems(response.body, world, false),
  },
  {
    key: 'POST /api/v1/rooms',
    access: 'user',
    probe: () => ({ method: 'POST', url: '/api/v1/rooms', payload: { name: uniqueName('Own') } }),
    signedIn: ok(201),
  },
  {
    key: 'POST /api/v1/rooms/join',
    access: 'user',
    // The seed's join-by-name: a private room answers like a name nobody has.
    probe: (_caller, world) => ({ method: 'POST', url: '/api/v1/rooms/join', payload: { name: world.R.name } }),
    signedIn: HIDDEN,
    sameAs: () => ({ method: 'POST', url: '/api/v1/rooms/join', payload: { name: uniqueName('Nobody') } }),
  },
  {
    key: 'POST /api/v1/invites/:code/accept',
    access: 'user',
    probe: (caller, world) => ({
      method: 'POST',
      url: `/api/v1/invites/${caller.kind === 'expired-invite-holder' ? world.expiredCode : world.neverIssuedCode}/accept`,
    }),
    // The expired-invite holder gets 410 invite_expired (see the dedicated test); the rest 404.
    signedIn: refused(404, 'invite_not_found'),
  },
];

/** The WebSocket endpoint: tried with the handshake itself, not with inject. */
const WS_KEY = 'GET /api/v1/ws';

// ---------------------------------------------------------------------------------------
// The world

interface World {
  O: Session;
  M: Session;
  /** A plain member of R and P, the bystander the moderation rows aim at. */
  T: Session;
  /** Moderators of R and P (appointed by O). */
  D: Session;
  D2: Session;
  R: Room;
  P: Room;
  Q: Room;
  general: Room;
  /** Marks every message body in R (and its name and description); P's bodies carry pMark. */
  rMark: string;
  pMark: string;
  callers: Record<CallerKind, Caller>;
  /** A member of R whose socket stays open while their session is logged out. */
  ender: Session;
  loginTarget: Session;
  ownerSessionIds: string[];
  expiredCode: string;
  neverIssuedCode: string;
  unknownRoomId: string;
  /** Every socket of a caller, with the index from which nothing of R (or P) may appear. */
  listeners: Array<{ label: string; client: WsClient; fromR: number; fromP: number }>;
  ownerSocket: WsClient;
  memberSocket: WsClient;
  /** Who is in R and P with which role, and who is banned, once the world is set up. */
  membershipAtStart: string[];
}

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
const isMessageIn = (roomId: string, id?: string) => (f: ServerFrame) =>
  f.type === 'message' && f.message.roomId === roomId && (id === undefined || f.message.id === id);
const isMember = (roomId: string, userId: string, change: string) => (f: ServerFrame) =>
  f.type === 'member' && f.roomId === roomId && f.userId === userId && f.change === change;

describe.each(DIALECTS)('authorization on %s', (dialect) => {
  let t: TestApp;
  let base: string;
  const sockets: WsClient[] = [];
  let world: World;

  // ---- a tiny client ----
  function headersOf(session: Session | undefined): Record<string, string> {
    return session ? as(session) : {};
  }
  async function call(session: Session | undefined, probe: Probe): Promise<LightMyRequestResponse> {
    return t.app.inject({
      method: probe.method as 'GET',
      url: probe.url,
      headers: headersOf(session),
      ...(probe.payload === undefined ? {} : { payload: probe.payload as object }),
    });
  }
  async function must(session: Session, probe: Probe, status: number): Promise<LightMyRequestResponse> {
    const response = await call(session, probe);
    if (response.statusCode !== status) throw new Error(`${probe.method} ${probe.url}: ${response.statusCode} ${response.body}`);
    return response;
  }
  const post = (session: Session, url: string, payload?: unknown, status = 200) => must(session, { method: 'POST', url, payload }, status);
  async function createRoom(owner: Session, fields: { name?: string; description?: string; isPrivate?: boolean }): Promise<Room> {
    return (await post(owner, '/api/v1/rooms', { name: uniqueName('Room'), ...fields }, 201)).json().room as Room;
  }
  async function inviteCode(owner: Session, roomId: string, options: object = {}): Promise<string> {
    return (await post(owner, `/api/v1/rooms/${roomId}/invites`, options, 201)).json().code as string;
  }
  async function connect(session: Session): Promise<WsClient> {
    const client = await connectWs(base, { cookie: session.cookie });
    sockets.push(client);
    return client;
  }
  async function sendHttp(session: Session, room: Room, body: string): Promise<string> {
    return (await post(session, `/api/v1/rooms/${room.id}/messages`, { body, clientId: randomUUID() }, 201)).json().message.id as string;
  }
  /** A message in General that every socket must receive: what was sent to them before it has arrived. */
  async function barrier(): Promise<void> {
    const id = await sendHttp(world.O, world.general, `barrier ${randomUUID()}`);
    await Promise.all(
      [world.ownerSocket, world.memberSocket, ...world.listeners.map((l) => l.client)]
        .filter((client) => client.socket.readyState === WebSocket.OPEN)
        .map((client) => client.waitFor(isMessageIn(world.general.id, id))),
    );
  }

  /** Every membership (with its role) and every ban in R and P, as sorted lines. */
  async function membershipOfRP(): Promise<string[]> {
    const roomIds = [world.R.id, world.P.id];
    const members = await t.database.db.selectFrom('room_members').select(['room_id', 'user_id', 'role']).where('room_id', 'in', roomIds).execute();
    const bans = await t.database.db.selectFrom('room_bans').select(['room_id', 'user_id']).where('room_id', 'in', roomIds).execute();
    return [...members.map((m) => `member ${m.room_id} ${m.user_id} ${m.role}`), ...bans.map((b) => `ban ${b.room_id} ${b.user_id}`)].sort();
  }

  /** Checks a refusal: status, exact error shape, code. */
  function answerProblems(response: LightMyRequestResponse, expected: Expectation, method: string): string[] {
    if (response.statusCode !== expected.status) return [`answered ${response.statusCode} ${response.body.slice(0, 200)}, expected ${expected.status}`];
    if (expected.code === undefined) return [];
    const shape = refusalProblem(response, method);
    if (shape) return [shape];
    if (method === 'HEAD') return [];
    const code = (response.json() as { error: { code: string } }).error.code;
    return code === expected.code ? [] : [`error code ${code}, expected ${expected.code}`];
  }

  beforeAll(async () => {
    t = await startTestApp(dialect);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;

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

    // The expired invite: issued for one hour, accepted after the clock passed it.
    const expiredCode = await inviteCode(O, R.id, { expiresInHours: 1 });
    t.clock.advance(61 * 60 * 1000);

    const ownerSessionIds = ((await must(O, { method: 'GET', url: '/api/v1/auth/sessions' }, 200)).json() as Array<{ id: string }>).map(
      (s) => s.id,
    );
    world = {
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
    world.membershipAtStart = await membershipOfRP();
  });

  afterAll(async () => {
    await Promise.all(sockets.map((client) => client.close()));
    await t?.close();
  });

  // ---------------------------------------------------------------------------------------
  describe('the matrix covers the whole API', () => {
    it('has a row for every /api/v1 route the app serves, and no row for a route it does not', () => {
      const served = new Set(apiRoutes(t.app).map(routeKey));
      const rows = new Set<string>([WS_KEY, ...ROOM_ROWS.map((r) => r.key), ...USER_ROWS.map((r) => r.key)]);
      // Fastify answers HEAD for every GET route: the GET row covers it (and is tried as HEAD too).
      for (const key of [...rows]) if (key.startsWith('GET ')) rows.add(key.replace(/^GET /, 'HEAD '));
      expect([...served].filter((key) => !rows.has(key)).sort(), 'routes without a matrix row').toEqual([]);
      expect([...rows].filter((key) => !served.has(key)).sort(), 'rows for routes the app does not serve').toEqual([]);
    });

    it('reads the route list from the router, which includes every documented operation', async () => {
      const served = new Set(apiRoutes(t.app).map(routeKey));
      const documented = (await documentedRoutes(t.app)).map(routeKey);
      expect(documented.length).toBeGreaterThan(10);
      expect(documented.filter((key) => !served.has(key))).toEqual([]);
    });

    it('counts a kicked and a banned member among the callers: out of R and P, only the banned one on record as banned', async () => {
      const kicked = world.callers['kicked-member'].session!.user.id;
      const banned = world.callers['banned-member'].session!.user.id;
      for (const room of [world.R, world.P]) {
        const members = (await must(world.O, { method: 'GET', url: `/api/v1/rooms/${room.id}/members` }, 200)).json() as Member[];
        const ids = members.map((m) => m.user.id);
        expect(ids).not.toContain(kicked);
        expect(ids).not.toContain(banned);
        expect(ids).toContain(world.T.user.id);
        expect(members.filter((m) => m.role === 'moderator').map((m) => m.user.id).sort()).toEqual([world.D.user.id, world.D2.user.id].sort());
      }
      const bans = await t.database.db
        .selectFrom('room_bans')
        .select(['room_id', 'user_id', 'banned_by'])
        .where('room_id', 'in', [world.R.id, world.P.id])
        .execute();
      expect(bans.sort((a, b) => (a.room_id === world.R.id ? -1 : 1) - (b.room_id === world.R.id ? -1 : 1))).toEqual([
        { room_id: world.R.id, user_id: banned, banned_by: world.D.user.id },
        { room_id: world.P.id, user_id: banned, banned_by: world.O.user.id },
      ]);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('while the owner and a member talk, type, join and leave in R', () => {
    it('the members themselves hear it all (the traffic the outsiders must not see)', async () => {
      const { O, M, R, P, ownerSocket, memberSocket } = world;
      const fromOwner = await sendHttp(O, R, `${world.rMark} hello from the owner`);
      await memberSocket.waitFor(isMessageIn(R.id, fromOwner));

      const clientId = randomUUID();
      memberSocket.send({ type: 'send', roomId: R.id, body: `${world.rMark} hello from the member`, clientId });
      const ack = await memberSocket.waitFor<Frame<'ack'>>((f) => f.type === 'ack' && f.clientId === clientId);
      await ownerSocket.waitFor(isMessageIn(R.id, ack.message.id));

      memberSocket.send({ type: 'typing', roomId: R.id });
      await ownerSocket.waitFor((f) => f.type === 'typing' && f.roomId === R.id && f.userId === M.user.id);
      ownerSocket.send({ type: 'typing', roomId: R.id });
      await memberSocket.waitFor((f) => f.type === 'typing' && f.roomId === R.id && f.userId === O.user.id);

      // Someone joins R by invite, speaks, and leaves.
      const joiner = await signUp(t.app, uniqueName('joiner'));
      const joinerSocket = await connect(joiner);
      await post(joiner, `/api/v1/invites/${await inviteCode(O, R.id)}/accept`);
      await ownerSocket.waitFor(isMember(R.id, joiner.user.id, 'joined'));
      await joinerSocket.waitFor(isMember(R.id, joiner.user.id, 'joined'));
      const fromJoiner = await sendHttp(joiner, R, `${world.rMark} hello from the joiner`);
      await memberSocket.waitFor(isMessageIn(R.id, fromJoiner));
      await post(joiner, `/api/v1/rooms/${R.id}/leave`, undefined, 204);
      await memberSocket.waitFor(isMember(R.id, joiner.user.id, 'left'));

      // The member leaves and comes back; marks read; the owner makes an invite.
      await post(M, `/api/v1/rooms/${R.id}/leave`, undefined, 204);
      await ownerSocket.waitFor(isMember(R.id, M.user.id, 'left'));
      await post(M, `/api/v1/invites/${await inviteCode(O, R.id)}/accept`);
      await ownerSocket.waitFor(isMember(R.id, M.user.id, 'joined'));
      await post(M, `/api/v1/rooms/${R.id}/read`, { seq: 2 }, 204);
      const again = await sendHttp(O, R, `${world.rMark} welcome back`);
      await memberSocket.waitFor(isMessageIn(R.id, again));

      // And the same in the public room P.
      const inP = await sendHttp(O, P, `${world.pMark} hello in public`);
      await memberSocket.waitFor(isMessageIn(P.id, inP));
      memberSocket.send({ type: 'typing', roomId: P.id });
      await ownerSocket.waitFor((f) => f.type === 'typing' && f.roomId === P.id && f.userId === M.user.id);
    });

    it('closed the socket of the member whose session was logged out', async () => {
      const ended = world.listeners.find((l) => l.label.startsWith('socket of a member whose session'))!;
      expect((await ended.client.waitForClose()).code).toBe(4401);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('every HTTP endpoint, for every caller', () => {
    /** Sends a probe as the caller and as HEAD when it is a GET; returns the mismatches. */
    async function tryProbe(
      caller: Caller,
      probe: Probe,
      expected: Expectation,
      options: { sameAs?: Probe; inspect?: (response: LightMyRequestResponse) => string[]; session?: Session } = {},
    ): Promise<string[]> {
      const session = options.session ?? caller.session;
      const problems: string[] = [];
      const response = await call(session, probe);
      problems.push(...answerProblems(response, expected, probe.method));
      if (expected.code === undefined && response.statusCode === expected.status) problems.push(...(options.inspect?.(response) ?? []));
      if (expected.code !== undefined) problems.push(...leakProblems(response.body, world, false));
      if (options.sameAs && response.statusCode === expected.status) {
        // A room the caller may not see answers exactly like a room that does not exist.
        const reference = await call(session, options.sameAs);
        if (reference.body !== response.body || reference.statusCode !== response.statusCode) {
          problems.push(`answers differently from a room that does not exist: ${response.body} vs ${reference.body}`);
        }
      }
      if (probe.method === 'GET') {
        const head = await call(session, { ...probe, method: 'HEAD' });
        if (head.statusCode !== response.statusCode) problems.push(`HEAD answered ${head.statusCode}, GET ${response.statusCode}`);
        if (head.body !== '') problems.push(`HEAD has a body: ${head.body.slice(0, 100)}`);
      }
      return problems.map((problem) => `${probe.method} ${probe.url}: ${problem}`);
    }

    const unknownRoom = (): Room => ({ ...world.R, id: world.unknownRoomId });

    it.each(CALLER_KINDS)('answers %s exactly as the matrix says', async (kind) => {
      const caller = world.callers[kind];
      const problems: string[] = [];
      for (const row of ROOM_ROWS) {
        for (const room of [world.R, world.P]) {
          const probe = row.probe(room, world, caller.session);
          const onPublic = kind === 'banned-member' ? (row.onPublicBanned ?? row.onPublic) : row.onPublic;
          if (!caller.signedIn) {
            problems.push(...(await tryProbe(caller, probe, AUTH_REQUIRED)));
          } else if (room === world.R) {
            problems.push(...(await tryProbe(caller, probe, HIDDEN, { sameAs: row.probe(unknownRoom(), world, caller.session) })));
          } else if (onPublic !== 'allowed-last') {
            problems.push(
              ...(await tryProbe(caller, probe, onPublic, {
                // The public room's own view: fine to see, but not as a member.
                inspect: (response) => ((response.json() as { room: Room }).room.role === null ? [] : ['shows a role in P']),
              })),
            );
          }
        }
      }
      for (const row of USER_ROWS) {
        if (!caller.signedIn) {
          const expected = row.loggedOut ?? AUTH_REQUIRED;
          problems.push(...(await tryProbe(caller, await row.probe(caller, world), expected)));
          continue;
        }
        if (row.signedIn === 'skip') continue;
        let session = caller.session!;
        if (row.spareSession) session = await logIn(t.app, session.user.username, TEST_PASSWORD);
        const probe = await row.probe(caller, world);
        const expected =
          row.key === 'POST /api/v1/invites/:code/accept' && kind === 'expired-invite-holder' ? refused(410, 'invite_expired') : row.signedIn;
        problems.push(
          ...(await tryProbe(caller, probe, expected, { session, sameAs: row.sameAs?.(world), inspect: (r) => row.inspect?.(r, caller, world) ?? [] })),
        );
        if (row.spareSession) {
          const after = await call(session, { method: 'GET', url: '/api/v1/me' });
          if (after.statusCode !== 401) problems.push(`${probe.url}: the ended session still answers ${after.statusCode}`);
        }
      }
      // The WebSocket handshake: refused before any frame when logged out.
      if (!caller.signedIn) {
        const outcome = await attemptWs(base, { cookie: caller.session?.cookie });
        if (!(outcome.kind === 'http' && outcome.status === 401)) problems.push(`${WS_KEY}: ${JSON.stringify(outcome)}, expected HTTP 401`);
      }
      expect(problems).toEqual([]);
    });

    it('lets the expired-invite holder in nowhere: 410 invite_expired, and R stays hidden', async () => {
      const late = world.callers['expired-invite-holder'].session!;
      const accept = await call(late, { method: 'POST', url: `/api/v1/invites/${world.expiredCode}/accept` });
      expect(accept.statusCode).toBe(410);
      expect(errorBodyProblem(accept.json())).toBeUndefined();
      expect(accept.json().error.code).toBe('invite_expired');
      expect(leakProblems(accept.body, world, false)).toEqual([]);
      const members = (await must(world.O, { method: 'GET', url: `/api/v1/rooms/${world.R.id}/members` }, 200)).json() as Array<{
        user: { id: string };
      }>;
      expect(members.map((m) => m.user.id)).not.toContain(late.user.id);
    });

    it('answers the owner, a moderator and a plain member of R and P as the matrix says (positive controls)', async () => {
      const problems: string[] = [];
      for (const row of ROOM_ROWS) {
        for (const [who, session, expected] of [
          ['member', world.M, row.member],
          ['moderator', world.D, row.moderator],
          ['owner', world.O, row.owner],
        ] as const) {
          if (expected === 'skip') continue;
          for (const room of [world.R, world.P]) {
            const probe = row.probe(room, world, session);
            const response = await call(session, probe);
            problems.push(...answerProblems(response, expected, probe.method).map((p) => `${who}: ${probe.method} ${probe.url}: ${p}`));
          }
        }
      }
      expect(problems).toEqual([]);
    });

    it('stores nothing in R or P for any refused send', async () => {
      const rows = await t.database.db
        .selectFrom('messages')
        .select(['room_id', 'sender_id'])
        .where('room_id', 'in', [world.R.id, world.P.id])
        .execute();
      const outsiders = new Set(SIGNED_IN_KINDS.map((k) => world.callers[k].session!.user.id));
      expect(rows.filter((row) => outsiders.has(row.sender_id))).toEqual([]);
    });

    it('keeps ranks in R and P: a moderator acts on plain members only, never re-roles; a member moderates nobody; the owner keeps their role', async () => {
      const { O, M, D, D2, T } = world;
      const stranger = world.callers['non-member'].session!;
      type Action = 'remove' | 'ban' | 'unban' | 'promote' | 'demote';
      const probeOf = (action: Action, room: Room, target: Session): Probe => {
        const id = target.user.id;
        switch (action) {
          case 'remove':
            return { method: 'POST', url: `/api/v1/rooms/${room.id}/members/${id}/remove` };
          case 'ban':
            return { method: 'PUT', url: `/api/v1/rooms/${room.id}/bans/${id}` };
          case 'unban':
            return { method: 'DELETE', url: `/api/v1/rooms/${room.id}/bans/${id}` };
          case 'promote':
          case 'demote':
            return { method: 'PUT', url: `/api/v1/rooms/${room.id}/members/${id}/role`, payload: { role: action === 'promote' ? 'moderator' : 'member' } };
        }
      };
      const FORBIDDEN = refused(403, 'forbidden');
      const NO_SUCH = refused(404, 'not_found');
      const ALL: Action[] = ['remove', 'ban', 'unban', 'promote', 'demote'];
      const cases: Array<[string, Session, Session, Action[], Expectation]> = [
        ['a moderator on the owner', D, O, ['remove', 'ban', 'promote', 'demote'], FORBIDDEN],
        ['a moderator on another moderator', D, D2, ['remove', 'ban', 'promote', 'demote'], FORBIDDEN],
        ['a moderator re-roling a plain member', D, T, ['promote', 'demote'], FORBIDDEN],
        ['a plain member on the owner', M, O, ALL, FORBIDDEN],
        ['a plain member on a moderator', M, D, ALL, FORBIDDEN],
        ['a plain member on another plain member', M, T, ALL, FORBIDDEN],
        ['a plain member on a non-member', M, stranger, ALL, FORBIDDEN],
        ['the owner on their own role', O, O, ['promote', 'demote'], FORBIDDEN],
        ['a moderator removing a non-member', D, stranger, ['remove'], NO_SUCH],
        ['the owner removing a non-member', O, stranger, ['remove'], NO_SUCH],
        ['the owner re-roling a non-member', O, stranger, ['promote', 'demote'], NO_SUCH],
        ['a moderator lifting a ban nobody holds', D, O, ['unban'], NO_SUCH],
      ];
      // A first request of each actor, so that refreshing their session is not counted as a change.
      for (const session of [O, M, D]) await must(session, { method: 'GET', url: '/api/v1/me' }, 200);
      const problems: string[] = [];
      for (const [label, actor, target, actions, expected] of cases) {
        for (const room of [world.R, world.P]) {
          for (const action of actions) {
            const probe = probeOf(action, room, target);
            const before = await snapshotDatabase(t.database.db);
            const response = await call(actor, probe);
            const changed = changedTables(before, await snapshotDatabase(t.database.db));
            const where = `${label}, ${action} in ${room === world.R ? 'R' : 'P'}`;
            problems.push(...answerProblems(response, expected, probe.method).map((p) => `${where}: ${p}`));
            if (changed.length > 0) problems.push(`${where}: changed ${changed.join(', ')}`);
          }
        }
      }
      expect(problems).toEqual([]);
    });

    it('keeps the banned member out of P by every way back in (403 banned) and out of R (404; 403 banned with an invite), changing nothing', async () => {
      const banned = world.callers['banned-member'].session!;
      const { R, P } = world;
      const codes = { R: await inviteCode(world.O, R.id), P: await inviteCode(world.D, P.id) };
      const BANNED = refused(403, 'banned');
      const attempts: Array<[string, Probe, Expectation]> = [
        ['join P by id', { method: 'POST', url: `/api/v1/rooms/${P.id}/join` }, BANNED],
        ['join P by name', { method: 'POST', url: '/api/v1/rooms/join', payload: { name: P.name } }, BANNED],
        ['join P by its name in capitals', { method: 'POST', url: '/api/v1/rooms/join', payload: { name: ` ${P.name.toUpperCase()} ` } }, BANNED],
        ['accept an invite to P', { method: 'POST', url: `/api/v1/invites/${codes.P}/accept` }, BANNED],
        ['lift their own ban on P', { method: 'DELETE', url: `/api/v1/rooms/${P.id}/bans/${banned.user.id}` }, refused(403, 'not_member')],
        ['join R by id', { method: 'POST', url: `/api/v1/rooms/${R.id}/join` }, HIDDEN],
        ['join R by name', { method: 'POST', url: '/api/v1/rooms/join', payload: { name: R.name } }, HIDDEN],
        // Whoever holds a code knows the room exists: the answer may say why.
        ['accept an invite to R', { method: 'POST', url: `/api/v1/invites/${codes.R}/accept` }, BANNED],
        ['lift their own ban on R', { method: 'DELETE', url: `/api/v1/rooms/${R.id}/bans/${banned.user.id}` }, HIDDEN],
      ];
      await must(banned, { method: 'GET', url: '/api/v1/me' }, 200);
      const problems: string[] = [];
      for (const [label, probe, expected] of attempts) {
        const before = await snapshotDatabase(t.database.db);
        const response = await call(banned, probe);
        const changed = changedTables(before, await snapshotDatabase(t.database.db));
        problems.push(...answerProblems(response, expected, probe.method).map((p) => `${label}: ${p}`));
        problems.push(...leakProblems(response.body, world, false).map((p) => `${label}: ${p}`));
        if (changed.length > 0) problems.push(`${label}: changed ${changed.join(', ')}`);
      }
      expect(problems).toEqual([]);
      // The invites were good: someone else gets in with each (and leaves again).
      const other = await signUp(t.app, uniqueName('other'));
      for (const [room, code] of [[R, codes.R], [P, codes.P]] as const) {
        await post(other, `/api/v1/invites/${code}/accept`);
        await post(other, `/api/v1/rooms/${room.id}/leave`, undefined, 204);
      }
    });

    it('left who is in R and P, with which role, and who is banned as it was: every refused remove, ban, unban and role change changed nothing', async () => {
      expect(await membershipOfRP()).toEqual(world.membershipAtStart);
    });

    it('left the owner’s session alive after others tried to end it', async () => {
      await must(world.O, { method: 'GET', url: '/api/v1/me' }, 200);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('every client frame, for every signed-in caller', () => {
    it.each(SIGNED_IN_KINDS)('refuses %s sending or typing into R or P; answers ping', async (kind) => {
      const caller = world.callers[kind];
      const client = world.listeners.find((l) => l.label === `${kind} socket`)!.client;
      const problems: string[] = [];
      const sendAndAwait = async (roomId: string) => {
        const clientId = randomUUID();
        client.send({ type: 'send', roomId, body: `${roomId === world.R.id ? world.rMark : world.pMark} from ${kind}`, clientId });
        return client.waitFor<Frame<'error'> | Frame<'ack'>>((f) => (f.type === 'error' || f.type === 'ack') && f.clientId === clientId);
      };
      const toR = await sendAndAwait(world.R.id);
      const toUnknown = await sendAndAwait(world.unknownRoomId);
      const toP = await sendAndAwait(world.P.id);
      if (toR.type !== 'error' || toR.error.code !== 'not_found') problems.push(`send to R: ${JSON.stringify(toR)}`);
      else if (JSON.stringify(toR.error) !== JSON.stringify((toUnknown as Frame<'error'>).error)) {
        problems.push(`send to R differs from a send to an unknown room: ${JSON.stringify(toR)} vs ${JSON.stringify(toUnknown)}`);
      }
      if (toP.type !== 'error' || toP.error.code !== 'not_member') problems.push(`send to P: ${JSON.stringify(toP)}`);
      for (const frame of [toR, toP]) {
        const problem = frame.type === 'error' ? errorBodyProblem({ error: frame.error }) : undefined;
        if (problem) problems.push(`error frame: ${problem}`);
      }

      // Typing into a room one is not in reaches nobody.
      const ownerMark = world.ownerSocket.frames.length;
      const memberMark = world.memberSocket.frames.length;
      client.send({ type: 'typing', roomId: world.R.id });
      client.send({ type: 'typing', roomId: world.P.id });
      client.send({ type: 'ping' });
      await client.waitFor((f) => f.type === 'pong');
      await barrier();
      const typedByCaller = (f: ServerFrame) => f.type === 'typing' && f.userId === caller.session!.user.id;
      const heard = [...world.ownerSocket.frames.slice(ownerMark), ...world.memberSocket.frames.slice(memberMark)].filter(typedByCaller);
      if (heard.length > 0) problems.push(`the members heard the caller typing: ${JSON.stringify(heard)}`);
      expect(problems).toEqual([]);
    });

    it('acks the member’s send and relays their typing (positive control)', async () => {
      const clientId = randomUUID();
      world.memberSocket.send({ type: 'send', roomId: world.R.id, body: `${world.rMark} control`, clientId });
      await world.memberSocket.waitFor((f) => f.type === 'ack' && f.clientId === clientId);
      const since = world.ownerSocket.frames.length;
      // Typing is throttled per connection and room: a fresh socket of the member types.
      const fresh = await connect(world.M);
      fresh.send({ type: 'typing', roomId: world.R.id });
      await world.ownerSocket.waitFor((f) => f.type === 'typing' && f.roomId === world.R.id && f.userId === world.M.user.id, { since });
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('isolation', () => {
    it('told every socket the kicked and the banned member had open of their removal from R and from P, once — and the members too', async () => {
      await barrier();
      const problems: string[] = [];
      for (const kind of ['kicked-member', 'banned-member'] as const) {
        const userId = world.callers[kind].session!.user.id;
        for (const room of [world.R, world.P]) {
          const name = room === world.R ? 'R' : 'P';
          for (const label of [`${kind} socket`, `${kind} second socket`]) {
            const count = world.listeners.find((l) => l.label === label)!.client.received(isMember(room.id, userId, 'removed')).length;
            if (count !== 1) problems.push(`${label}: ${count} removed frames for ${name}`);
          }
          const opened = world.listeners.find((l) => l.label === `${kind} socket opened after the removal`)!.client;
          if (opened.received(isMember(room.id, userId, 'removed')).length !== 0) problems.push(`${kind}: a socket opened later was told of ${name}`);
          for (const [who, client] of [
            ['owner', world.ownerSocket],
            ['member', world.memberSocket],
          ] as const) {
            const heard = client.received(isMember(room.id, userId, 'removed')).length;
            if (heard !== 1) problems.push(`the ${who} heard ${heard} removed frames of the ${kind} in ${name}`);
          }
        }
      }
      expect(problems).toEqual([]);
    });

    it('none of the callers’ sockets received any frame that mentions R — or P, which they are not in', async () => {
      await barrier();
      const leaks: string[] = [];
      for (const listener of world.listeners) {
        listener.client.frames.forEach((frame, index) => {
          const text = JSON.stringify(frame);
          for (const secret of [world.R.id, world.rMark]) {
            if (index >= listener.fromR && text.includes(secret)) leaks.push(`${listener.label} #${index}: ${text}`);
          }
          for (const secret of [world.P.id, world.pMark]) {
            if (index >= listener.fromP && text.includes(secret)) leaks.push(`${listener.label} #${index}: ${text}`);
          }
        });
      }
      expect(leaks).toEqual([]);
      // The sockets were listening: each got the barrier messages in General.
      for (const listener of world.listeners.filter((l) => l.client.socket.readyState === WebSocket.OPEN)) {
        expect(listener.client.received(isMessageIn(world.general.id)).length, listener.label).toBeGreaterThan(0);
      }
    });

    it('lets a signed-in non-member — the kicked one too — join P (the one allowed change): then P reaches them, and R still does not; the banned one stays out (403 banned)', async () => {
      const joined: WsClient[] = [];
      const shutOut: WsClient[] = [];
      for (const kind of SIGNED_IN_KINDS) {
        const caller = world.callers[kind];
        // Every socket of theirs still open (the kicked and the banned member have three).
        const clients = world.listeners
          .filter((l) => l.label.startsWith(`${kind} `) && l.client.socket.readyState === WebSocket.OPEN)
          .map((l) => l.client);
        const probe = ROOM_ROWS.find((r) => r.key === 'POST /api/v1/rooms/:roomId/join')!.probe(world.P, world, caller.session);
        const byId = await call(caller.session, probe);
        const byName = await call(caller.session, { method: 'POST', url: '/api/v1/rooms/join', payload: { name: world.P.name } });
        if (kind === 'banned-member') {
          expect(answerProblems(byId, refused(403, 'banned'), 'POST'), `${kind} joins P by id`).toEqual([]);
          expect(answerProblems(byName, refused(403, 'banned'), 'POST'), `${kind} joins P by name`).toEqual([]);
          shutOut.push(...clients);
          continue;
        }
        expect(byId.statusCode, `${kind} joins P by id`).toBe(200);
        expect((byId.json() as { room: Room }).room.role).toBe('member');
        expect(byName.statusCode, `${kind} joins P by name`).toBe(200);
        joined.push(...clients);
      }
      expect(shutOut.length).toBe(3);
      const inP = await sendHttp(world.O, world.P, `${world.pMark} now you can hear me`);
      const inR = await sendHttp(world.O, world.R, `${world.rMark} but still not this`);
      await Promise.all(joined.map((client) => client.waitFor(isMessageIn(world.P.id, inP))));
      await barrier();
      for (const client of joined) expect(client.received(isMessageIn(world.R.id, inR))).toEqual([]);
      for (const client of shutOut) expect(client.received(isMessageIn(world.P.id, inP))).toEqual([]);
    });

    it('lets the kicked member back into R with a new invite (a kick is not a ban); the banned one only once a moderator lifts the ban', async () => {
      const { O, D, M, R, P } = world;
      const kicked = world.callers['kicked-member'].session!;
      const banned = world.callers['banned-member'].session!;
      const kickedSocket = world.listeners.find((l) => l.label === 'kicked-member socket')!.client;
      const bannedSocket = world.listeners.find((l) => l.label === 'banned-member socket')!.client;
      await post(kicked, `/api/v1/invites/${await inviteCode(D, R.id)}/accept`);
      await kickedSocket.waitFor(isMember(R.id, kicked.user.id, 'joined'));

      // One use only: the refused attempt must not spend it.
      const code = await inviteCode(D, R.id, { maxUses: 1 });
      const refusedAccept = await call(banned, { method: 'POST', url: `/api/v1/invites/${code}/accept` });
      expect(answerProblems(refusedAccept, refused(403, 'banned'), 'POST')).toEqual([]);
      const lift = (room: Room): Probe => ({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/bans/${banned.user.id}` });
      expect(answerProblems(await call(M, lift(R)), refused(403, 'forbidden'), 'DELETE')).toEqual([]);
      await must(D, lift(R), 204);
      expect(answerProblems(await call(D, lift(R)), refused(404, 'not_found'), 'DELETE')).toEqual([]);
      await must(O, lift(P), 204);
      await post(banned, `/api/v1/invites/${code}/accept`);
      await post(banned, `/api/v1/rooms/${P.id}/join`);

      // Both hear R again on the sockets they had open all along.
      const inR = await sendHttp(O, R, `${world.rMark} welcome back, both`);
      await kickedSocket.waitFor(isMessageIn(R.id, inR));
      await bannedSocket.waitFor(isMessageIn(R.id, inR));
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('CSRF on every cookie-authenticated state change', () => {
    /** A signed-in user with everything a successful request of each row needs. */
    interface CsrfWorld {
      caller: Session;
      other: Session;
      ownRoom: Room;
      privateRoom: Room;
      joinable: Room;
      leavable: Room;
    }
    let cw: CsrfWorld;

    interface CsrfCase {
      key: string;
      /** The request with every field right (the session to send it with, and the probe). */
      build(): Promise<{ session: Session; probe: Probe }>;
    }
    const CSRF_CASES: CsrfCase[] = [
      {
        key: 'POST /api/v1/auth/logout',
        build: async () => ({ session: await logIn(t.app, cw.caller.user.username, TEST_PASSWORD), probe: { method: 'POST', url: '/api/v1/auth/logout' } }),
      },
      {
        key: 'DELETE /api/v1/auth/sessions/:sessionId',
        build: async () => {
          const spare = await logIn(t.app, cw.caller.user.username, TEST_PASSWORD);
          const list = (await must(spare, { method: 'GET', url: '/api/v1/auth/sessions' }, 200)).json() as Array<{ id: string; current: boolean }>;
          const spareId = list.find((s) => s.current)!.id;
          return { session: cw.caller, probe: { method: 'DELETE', url: `/api/v1/auth/sessions/${spareId}` } };
        },
      },
      {
        key: 'POST /api/v1/rooms',
        build: async () => ({ session: cw.caller, probe: { method: 'POST', url: '/api/v1/rooms', payload: { name: uniqueName('Forged') } } }),
      },
      {
        key: 'POST /api/v1/rooms/join',
        build: async () => ({ session: cw.caller, probe: { method: 'POST', url: '/api/v1/rooms/join', payload: { name: cw.joinable.name } } }),
      },
      {
        key: 'POST /api/v1/rooms/:roomId/join',
        build: async () => ({ session: cw.caller, probe: { method: 'POST', url: `/api/v1/rooms/${cw.joinable.id}/join` } }),
      },
      {
        key: 'POST /api/v1/rooms/:roomId/leave',
        build: async () => {
          await post(cw.caller, `/api/v1/rooms/${cw.leavable.id}/join`);
          return { session: cw.caller, probe: { method: 'POST', url: `/api/v1/rooms/${cw.leavable.id}/leave` } };
        },
      },
      {
        key: 'POST /api/v1/rooms/:roomId/read',
        build: async () => {
          await sendHttp(cw.other, cw.ownRoom, 'something to read');
          return { session: cw.caller, probe: { method: 'POST', url: `/api/v1/rooms/${cw.ownRoom.id}/read`, payload: { seq: 1_000 } } };
        },
      },
      {
        key: 'POST /api/v1/rooms/:roomId/invites',
        build: async () => ({ session: cw.caller, probe: { method: 'POST', url: `/api/v1/rooms/${cw.privateRoom.id}/invites`, payload: {} } }),
      },
      {
        key: 'POST /api/v1/invites/:code/accept',
        build: async () => {
          const theirs = await createRoom(cw.other, { isPrivate: true });
          return { session: cw.caller, probe: { method: 'POST', url: `/api/v1/invites/${await inviteCode(cw.other, theirs.id)}/accept` } };
        },
      },
      {
        key: 'POST /api/v1/rooms/:roomId/messages',
        build: async () => ({
          session: cw.caller,
          probe: { method: 'POST', url: `/api/v1/rooms/${cw.ownRoom.id}/messages`, payload: { body: 'forged?', clientId: randomUUID() } },
        }),
      },
      // Moderation in the caller's own room, each on a fresh plain member.
      {
        key: 'POST /api/v1/rooms/:roomId/members/:userId/remove',
        build: async () => {
          const target = await freshMemberOf(cw.ownRoom);
          return { session: cw.caller, probe: { method: 'POST', url: `/api/v1/rooms/${cw.ownRoom.id}/members/${target.user.id}/remove` } };
        },
      },
      {
        key: 'PUT /api/v1/rooms/:roomId/bans/:userId',
        build: async () => {
          const target = await freshMemberOf(cw.ownRoom);
          return { session: cw.caller, probe: { method: 'PUT', url: `/api/v1/rooms/${cw.ownRoom.id}/bans/${target.user.id}` } };
        },
      },
      {
        key: 'DELETE /api/v1/rooms/:roomId/bans/:userId',
        build: async () => {
          const target = await freshMemberOf(cw.ownRoom);
          await must(cw.caller, { method: 'PUT', url: `/api/v1/rooms/${cw.ownRoom.id}/bans/${target.user.id}` }, 204);
          return { session: cw.caller, probe: { method: 'DELETE', url: `/api/v1/rooms/${cw.ownRoom.id}/bans/${target.user.id}` } };
        },
      },
      {
        key: 'PUT /api/v1/rooms/:roomId/members/:userId/role',
        build: async () => {
          const target = await freshMemberOf(cw.ownRoom);
          return {
            session: cw.caller,
            probe: { method: 'PUT', url: `/api/v1/rooms/${cw.ownRoom.id}/members/${target.user.id}/role`, payload: { role: 'moderator' } },
          };
        },
      },
      // Last: a successful password change ends the caller's other sessions.
      {
        key: 'POST /api/v1/auth/password',
        build: async () => ({
          session: cw.caller,
          probe: { method: 'POST', url: '/api/v1/auth/password', payload: { currentPassword: TEST_PASSWORD, newPassword: 'an entirely new passphrase' } },
        }),
      },
    ];
    const PUBLIC_STATE_CHANGES = ['POST /api/v1/auth/register', 'POST /api/v1/auth/login'];

    async function freshMemberOf(room: Room): Promise<Session> {
      const member = await signUp(t.app, uniqueName('target'));
      await post(member, `/api/v1/rooms/${room.id}/join`);
      return member;
    }

    beforeAll(async () => {
      const caller = await signUp(t.app, uniqueName('csrf'));
      const other = await signUp(t.app, uniqueName('other'));
      const ownRoom = await createRoom(caller, {});
      await post(other, `/api/v1/rooms/${ownRoom.id}/join`);
      cw = {
        caller,
        other,
        ownRoom,
        privateRoom: await createRoom(caller, { isPrivate: true }),
        joinable: await createRoom(other, {}),
        leavable: await createRoom(other, {}),
      };
    });

    it('has a case for every state-changing route behind a session', () => {
      const unsafe = apiRoutes(t.app)
        .filter((route) => !['GET', 'HEAD', 'OPTIONS'].includes(route.method))
        .map(routeKey)
        .filter((key) => !PUBLIC_STATE_CHANGES.includes(key));
      expect(unsafe.filter((key) => !CSRF_CASES.some((c) => c.key === key)).sort()).toEqual([]);
    });

    it.each(CSRF_CASES.map((c) => c.key))('refuses %s without the right X-CSRF-Token (403 csrf_failed) and changes nothing', async (key) => {
      const { session, probe } = await CSRF_CASES.find((c) => c.key === key)!.build();
      const right = session.csrfToken;
      const otherUsers = cw.other.csrfToken;
      const sameUserOtherSession = (await logIn(t.app, cw.caller.user.username, TEST_PASSWORD)).csrfToken;
      const variants: Array<[string, Record<string, string | string[]>]> = [
        ['no header', { cookie: session.cookie }],
        ['an empty header', { cookie: session.cookie, 'x-csrf-token': '' }],
        ['a made-up token', { cookie: session.cookie, 'x-csrf-token': 'A'.repeat(right.length) }],
        ['the token in another case', { cookie: session.cookie, 'x-csrf-token': right.toUpperCase() === right ? right.toLowerCase() : right.toUpperCase() }],
        ['the token cut short', { cookie: session.cookie, 'x-csrf-token': right.slice(0, -1) }],
        ['another user’s token', { cookie: session.cookie, 'x-csrf-token': otherUsers }],
        ['the token of another session of the same user', { cookie: session.cookie, 'x-csrf-token': sameUserOtherSession }],
        ['a wrong token repeated beside the right one', { cookie: session.cookie, 'x-csrf-token': ['wrong', right] }],
      ];
      const problems: string[] = [];
      for (const [label, headers] of variants) {
        const before = await snapshotDatabase(t.database.db);
        const response = await t.app.inject({
          method: probe.method as 'POST',
          url: probe.url,
          headers: headers as Record<string, string>,
          ...(probe.payload === undefined ? {} : { payload: probe.payload as object }),
        });
        const changed = changedTables(before, await snapshotDatabase(t.database.db));
        const answer = answerProblems(response, refused(403, 'csrf_failed'), probe.method);
        if (answer.length > 0) problems.push(`${label}: ${answer.join('; ')}`);
        if (changed.length > 0) problems.push(`${label}: changed ${changed.join(', ')}`);
      }
      // Control: the very same request with the right token goes through.
      const control = await call(session, probe);
      if (control.statusCode < 200 || control.statusCode > 299) problems.push(`with the right token: ${control.statusCode} ${control.body}`);
      expect(problems).toEqual([]);
    });

    it('refuses the body encodings a cross-site form can send (415) on sign-up and sign-in, creating nothing', async () => {
      const username = uniqueName('form');
      const fields = `username=${username}&email=${username}%40example.com&password=x&confirmPassword=x`;
      const problems: string[] = [];
      for (const url of ['/api/v1/auth/register', '/api/v1/auth/login']) {
        for (const [contentType, payload] of [
          ['application/x-www-form-urlencoded', fields],
          ['text/plain', fields],
          ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="username"\r\n\r\n${username}\r\n--x--\r\n`],
        ] as const) {
          const before = await snapshotDatabase(t.database.db);
          const response = await t.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
          const answer = answerProblems(response, refused(415, 'unsupported_media_type'), 'POST');
          if (answer.length > 0) problems.push(`${url} as ${contentType}: ${answer.join('; ')}`);
          const changed = changedTables(before, await snapshotDatabase(t.database.db));
          if (changed.length > 0) problems.push(`${url} as ${contentType}: changed ${changed.join(', ')}`);
        }
      }
      expect(problems).toEqual([]);
    });
  });

  // ---------------------------------------------------------------------------------------
  describe('the WebSocket handshake', () => {
    /** A raw handshake with exactly these headers (no Origin unless given). */
    function handshake(headers: Record<string, string>): Promise<number | 'open'> {
      return new Promise((resolve) => {
        const socket = new WebSocket(`${base.replace(/^http/, 'ws')}${WS_PATH}`, { headers });
        socket.on('error', () => undefined);
        socket.once('open', () => {
          socket.terminate();
          resolve('open');
        });
        socket.once('unexpected-response', (_request, response) => {
          resolve(response.statusCode ?? 0);
          socket.terminate();
        });
      });
    }

    it.each([
      ['another site', 'https://evil.example'],
      ['the same host on another scheme', 'https://127.0.0.1'],
      ['a look-alike host', 'http://127.0.0.1.evil.example'],
      ['the opaque origin "null"', 'null'],
    ])('refuses an Origin of %s with 403, even with a valid cookie', async (_label, origin) => {
      const { cookie } = world.callers['non-member'].session!;
      const port = new URL(base).port;
      const withPort = origin === 'null' ? origin : `${origin}:${port}`;
      expect(await handshake({ cookie, origin })).toBe(403);
      expect(await handshake({ cookie, origin: withPort })).toBe(403);
    });

    it('refuses a handshake with no Origin header at all, even with a valid cookie', async () => {
      expect(await handshake({ cookie: world.callers['non-member'].session!.cookie })).toBe(403);
    });

    it('refuses a handshake from this site without a cookie (401), with a forged one, and with an ended one', async () => {
      expect(await handshake({ origin: base })).toBe(401);
      const { cookie } = world.callers['non-member'].session!;
      expect(await handshake({ origin: base, cookie: `${cookie.slice(0, -2)}xx` })).toBe(401);
      expect(await handshake({ origin: base, cookie: world.callers['ended-session'].session!.cookie })).toBe(401);
    });

    it('accepts this site with a live cookie (control)', async () => {
      expect(await handshake({ origin: base, cookie: world.callers['non-member'].session!.cookie })).toBe('open');
    });
  });
});
