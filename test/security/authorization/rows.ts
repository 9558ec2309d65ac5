/**
 * The authorization matrix (issue 4): every HTTP endpoint under /api/v1 has a row here,
 * and adding an endpoint costs one row (coverage.test.ts fails when the router or the
 * served OpenAPI document has a route without one). Room rows are tried on the private
 * room R (404 to everyone not in it, byte-for-byte the answer for a room that does not
 * exist) and the public room P (`onPublic` for signed-in callers not in it), and as
 * positive controls by its members; user rows give one answer to every signed-in caller.
 * Logged-out callers get 401 except on `public` rows.
 */
import { randomUUID } from 'node:crypto';
import type { Room } from '../../../src/shared/protocol.js';
import { TEST_PASSWORD, uniqueName, type Session } from '../../support/app.js';
import { FILE_ROOM_ROWS, FILE_USER_ROWS } from './file-rows.js';
import { SEARCH_ROOM_ROWS, SEARCH_USER_ROWS } from './search-rows.js';
import { HIDDEN, leakProblems, ok, refused, type Expectation, type RoomRow, type UserRow, type World } from './kit.js';

/** The same answer to the plain member M, the moderator D and the owner O. */
const everyone = (expected: Expectation | 'skip') => ({ member: expected, moderator: expected, owner: expected });

/** The caller's own id (T's for a caller without a session, who is refused before it matters). */
const targetSelf = (world: World, self: Session | undefined) => (self ?? world.T).user.id;

/** The messages of R or P the edit, delete and reaction rows aim at (an unknown room's: any seq, it is refused first). */
const noteOf = (world: World, room: Room) => world.notes[room.id] ?? { byOwner: 1, byBystander: 2 };

const sendBody = (world: World, room: Room) => `${room.id === world.R.id ? world.rMark : world.pMark} body ${randomUUID()}`;

export const ROOM_ROWS: RoomRow[] = [
  {
    key: 'GET /api/v1/rooms/:roomId',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}` }),
    onPublic: ok(200),
    ...everyone(ok(200)),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/join',
    probe: (room) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/join` }),
    onPublic: 'allowed-last',
    // A ban holds even against the public room's join.
    onPublicBanned: refused(403, 'banned'),
    ...everyone(ok(200)),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/leave',
    probe: (room) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/leave` }),
    onPublic: refused(403, 'not_member'),
    ...everyone('skip'),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/members',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/members` }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(200)),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/read',
    probe: (room) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/read`, payload: { seq: 0 } }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(204)),
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
    key: 'GET /api/v1/rooms/:roomId/invites',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/invites` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: ok(200),
    owner: ok(200),
  },
  {
    key: 'DELETE /api/v1/rooms/:roomId/invites/:inviteId',
    // An id the room has no invite under: the owner and moderators get past authorization to "no such invite".
    probe: (room) => ({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/invites/${randomUUID()}` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(404, 'not_found'),
    owner: refused(404, 'not_found'),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/messages',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/messages` }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(200)),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/messages',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/messages?after=0` }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(200)),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/messages',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/messages?before=1000&limit=5` }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(200)),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/messages',
    probe: (room, world) => ({
      method: 'POST',
      url: `/api/v1/rooms/${room.id}/messages`,
      payload: { body: sendBody(world, room), clientId: randomUUID() },
    }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(201)),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/messages',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/messages?changedAfter=0` }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(200)),
  },
  // Edits, deletes and reactions, aimed at a message by the owner O or by the bystander T.
  {
    key: 'PATCH /api/v1/rooms/:roomId/messages/:seq',
    probe: (room, world) => ({ method: 'PATCH', url: `/api/v1/rooms/${room.id}/messages/${noteOf(world, room).byBystander}`, payload: { body: sendBody(world, room) } }),
    onPublic: refused(403, 'not_member'),
    // Only the author edits: not a moderator, not the owner.
    ...everyone(refused(403, 'forbidden')),
  },
  {
    key: 'PATCH /api/v1/rooms/:roomId/messages/:seq',
    probe: (room, world) => ({ method: 'PATCH', url: `/api/v1/rooms/${room.id}/messages/${noteOf(world, room).byOwner}`, payload: { body: sendBody(world, room) } }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(403, 'forbidden'),
    owner: ok(200),
  },
  {
    key: 'DELETE /api/v1/rooms/:roomId/messages/:seq',
    probe: (room, world) => ({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/messages/${noteOf(world, room).byBystander}` }),
    onPublic: refused(403, 'not_member'),
    // A plain member may not delete another's message; moderators and the owner may (not run here: it would delete it).
    member: refused(403, 'forbidden'),
    moderator: 'skip',
    owner: 'skip',
  },
  {
    key: 'DELETE /api/v1/rooms/:roomId/messages/:seq',
    // A seq the room has not reached: members get past authorization to "no such message".
    probe: (room) => ({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/messages/999999` }),
    onPublic: refused(403, 'not_member'),
    ...everyone(refused(404, 'not_found')),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/messages/:seq/edits',
    probe: (room, world) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/messages/${noteOf(world, room).byOwner}/edits` }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(200)),
  },
  {
    key: 'PUT /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji',
    probe: (room, world) => ({ method: 'PUT', url: `/api/v1/rooms/${room.id}/messages/${noteOf(world, room).byBystander}/reactions/${encodeURIComponent('👍')}` }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(204)),
  },
  {
    key: 'DELETE /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji',
    probe: (room, world) => ({ method: 'DELETE', url: `/api/v1/rooms/${room.id}/messages/${noteOf(world, room).byBystander}/reactions/${encodeURIComponent('🎉')}` }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(204)),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/messages',
    // A reply: to seq 1 of the room tried (R and P both have messages); the room's answer comes first.
    probe: (room, world) => ({
      method: 'POST',
      url: `/api/v1/rooms/${room.id}/messages`,
      payload: { body: sendBody(world, room), clientId: randomUUID(), replyTo: 1 },
    }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(201)),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/messages',
    // With the caller's own upload to that room (the removed, kicked and banned members made
    // theirs while members): the room's answer comes before anything about the file.
    probe: (room, world, self) => ({
      method: 'POST',
      url: `/api/v1/rooms/${room.id}/messages`,
      payload: { body: sendBody(world, room), clientId: randomUUID(), attachments: [(self && world.uploads[room.id]?.[self.user.id]) ?? randomUUID()] },
    }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(201)),
  },
  {
    key: 'POST /api/v1/rooms/:roomId/messages',
    // Naming another member's upload (the bystander T's): members get 400, outsiders the room's answer.
    probe: (room, world) => ({
      method: 'POST',
      url: `/api/v1/rooms/${room.id}/messages`,
      payload: { body: sendBody(world, room), clientId: randomUUID(), attachments: [world.uploads[room.id]?.[world.T.user.id] ?? randomUUID()] },
    }),
    onPublic: refused(403, 'not_member'),
    ...everyone(refused(400, 'invalid_attachment')),
  },
  {
    key: 'PUT /api/v1/rooms/:roomId/notifications',
    probe: (room) => ({ method: 'PUT', url: `/api/v1/rooms/${room.id}/notifications`, payload: { level: 'mentions' } }),
    onPublic: refused(403, 'not_member'),
    ...everyone(ok(204)),
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
    ...everyone(refused(403, 'forbidden')),
  },
  // Managing the room (room-management.routes): T is a member already, so adding them
  // passes authorization and stops at 409; handing over or deleting would change the world.
  {
    key: 'POST /api/v1/rooms/:roomId/members',
    probe: (room, world) => ({ method: 'POST', url: `/api/v1/rooms/${room.id}/members`, payload: { username: world.T.user.username } }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(409, 'already_member'),
    owner: refused(409, 'already_member'),
  },
  {
    key: 'GET /api/v1/rooms/:roomId/bans',
    probe: (room) => ({ method: 'GET', url: `/api/v1/rooms/${room.id}/bans` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: ok(200),
    owner: ok(200),
  },
  {
    key: 'PUT /api/v1/rooms/:roomId/owner',
    probe: (room, world) => ({ method: 'PUT', url: `/api/v1/rooms/${room.id}/owner`, payload: { userId: world.T.user.id } }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(403, 'forbidden'),
    owner: 'skip',
  },
  {
    key: 'PUT /api/v1/rooms/:roomId/owner',
    // Handing the room to oneself: the owner is past authorization and told to choose another.
    probe: (room, world, self) => ({ method: 'PUT', url: `/api/v1/rooms/${room.id}/owner`, payload: { userId: targetSelf(world, self) } }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(403, 'forbidden'),
    owner: refused(400, 'validation_failed'),
  },
  {
    key: 'DELETE /api/v1/rooms/:roomId',
    probe: (room) => ({ method: 'DELETE', url: `/api/v1/rooms/${room.id}` }),
    onPublic: refused(403, 'not_member'),
    member: refused(403, 'forbidden'),
    moderator: refused(403, 'forbidden'),
    owner: 'skip',
  },
  ...FILE_ROOM_ROWS,
  ...SEARCH_ROOM_ROWS,
];

export const USER_ROWS: UserRow[] = [
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
    key: 'GET /api/v1/users',
    access: 'user',
    // The people search: ids and usernames only, never an email (O's address names O's username).
    probe: (_caller, world) => ({ method: 'GET', url: `/api/v1/users?q=${encodeURIComponent(world.O.user.username.toUpperCase())}` }),
    signedIn: ok(200),
    inspect: (response, _caller, world) => [
      ...(response.body.includes('@') ? ['the answer holds an email address'] : []),
      ...((response.json() as { users: Array<{ id: string }> }).users.some((u) => u.id === world.O.user.id) ? [] : ['O is not found by their prefix']),
      ...leakProblems(response.body, world, true),
    ],
  },
  {
    key: 'POST /api/v1/dms',
    access: 'user',
    // Each caller's own DM with O (a new set of people for every caller): nothing of R or P.
    probe: (_caller, world) => ({ method: 'POST', url: '/api/v1/dms', payload: { userIds: [world.O.user.id] } }),
    signedIn: ok(201),
    inspect: (response, caller, world) => {
      const { room } = response.json() as { room: Room };
      const problems = leakProblems(response.body, world, true);
      if (room.kind !== 'dm' || room.role !== 'member') problems.push(`not a DM of the caller: ${response.body.slice(0, 200)}`);
      if (!room.dmMembers?.some((m) => m.id === caller.session!.user.id)) problems.push('the caller is not in the DM');
      return problems;
    },
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
  {
    key: 'GET /api/v1/invites/:code',
    access: 'public',
    // The invite page works signed out; a code nobody was given names no room, to anyone.
    probe: () => ({ method: 'GET', url: `/api/v1/invites/${randomUUID()}` }),
    signedIn: refused(404, 'invite_not_found'),
    loggedOut: refused(404, 'invite_not_found'),
  },
  ...FILE_USER_ROWS,
  ...SEARCH_USER_ROWS,
];

/** The WebSocket endpoint: tried with the handshake itself, not with inject. */
export const WS_KEY = 'GET /api/v1/ws';
