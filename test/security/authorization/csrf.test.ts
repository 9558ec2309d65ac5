/**
 * CSRF on every cookie-authenticated state change: each is refused (403 csrf_failed,
 * changing nothing) without the right X-CSRF-Token, in every wrong way, and goes through
 * with it; sign-up and sign-in refuse the encodings a cross-site form can send. Each test
 * gets a fresh signed-in caller with everything a successful request needs.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Room } from '../../../src/shared/protocol.js';
import { logIn, signUp, startTestApp, TEST_PASSWORD, uniqueName, type Session, type TestApp } from '../../support/app.js';
import { DIALECTS } from '../../support/databases.js';
import { multipart } from '../../support/files.js';
import { apiRoutes, changedTables, routeKey, snapshotDatabase } from '../security-harness.js';
import { answerProblems, createKit, refused, type Kit, type Probe } from './kit.js';

describe.each(DIALECTS)('CSRF on every cookie-authenticated state change, on %s', (dialect) => {
  let t: TestApp;
  let kit: Kit;
  beforeAll(async () => {
    t = await startTestApp(dialect);
    kit = createKit(t);
  });
  afterAll(async () => {
    await t?.close();
  });
  const must = (...args: Parameters<Kit['must']>) => kit.must(...args);
  const post = (...args: Parameters<Kit['post']>) => kit.post(...args);
  const call = (...args: Parameters<Kit['call']>) => kit.call(...args);
  const createRoom = (...args: Parameters<Kit['createRoom']>) => kit.createRoom(...args);
  const inviteCode = (...args: Parameters<Kit['inviteCode']>) => kit.inviteCode(...args);
  const sendHttp = (...args: Parameters<Kit['sendHttp']>) => kit.sendHttp(...args);

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
      key: 'DELETE /api/v1/rooms/:roomId/invites/:inviteId',
      build: async () => {
        const invite = (await post(cw.caller, `/api/v1/rooms/${cw.privateRoom.id}/invites`, {}, 201)).json() as { id: string };
        return { session: cw.caller, probe: { method: 'DELETE', url: `/api/v1/rooms/${cw.privateRoom.id}/invites/${invite.id}` } };
      },
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
    // Edits, deletes and reactions, on a fresh message of the caller's in their own room.
    {
      key: 'PATCH /api/v1/rooms/:roomId/messages/:seq',
      build: async () => ({ session: cw.caller, probe: { method: 'PATCH', url: await ownMessageUrl(), payload: { body: 'forged edit?' } } }),
    },
    {
      key: 'DELETE /api/v1/rooms/:roomId/messages/:seq',
      build: async () => ({ session: cw.caller, probe: { method: 'DELETE', url: await ownMessageUrl() } }),
    },
    {
      key: 'PUT /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji',
      build: async () => ({ session: cw.caller, probe: { method: 'PUT', url: `${await ownMessageUrl()}/reactions/${encodeURIComponent('👍')}` } }),
    },
    {
      key: 'DELETE /api/v1/rooms/:roomId/messages/:seq/reactions/:emoji',
      build: async () => {
        const url = `${await ownMessageUrl()}/reactions/${encodeURIComponent('👍')}`;
        await must(cw.caller, { method: 'PUT', url }, 204);
        return { session: cw.caller, probe: { method: 'DELETE', url } };
      },
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
    {
      key: 'PUT /api/v1/rooms/:roomId/notifications',
      build: async () => ({ session: cw.caller, probe: { method: 'PUT', url: `/api/v1/rooms/${cw.ownRoom.id}/notifications`, payload: { level: 'none' } } }),
    },
    {
      key: 'POST /api/v1/dms',
      build: async () => ({ session: cw.caller, probe: { method: 'POST', url: '/api/v1/dms', payload: { userIds: [cw.other.user.id] } } }),
    },
    // Managing the caller's own rooms (room-management.routes).
    {
      key: 'POST /api/v1/rooms/:roomId/members',
      build: async () => {
        const target = await signUp(t.app, uniqueName('added'));
        return { session: cw.caller, probe: { method: 'POST', url: `/api/v1/rooms/${cw.privateRoom.id}/members`, payload: { username: target.user.username } } };
      },
    },
    {
      key: 'PUT /api/v1/rooms/:roomId/owner',
      build: async () => ({ session: cw.caller, probe: { method: 'PUT', url: `/api/v1/rooms/${cw.ownRoom.id}/owner`, payload: { userId: cw.other.user.id } } }),
    },
    {
      key: 'DELETE /api/v1/rooms/:roomId',
      build: async () => ({ session: cw.caller, probe: { method: 'DELETE', url: `/api/v1/rooms/${cw.privateRoom.id}` } }),
    },
    {
      // A cross-site form can send multipart/form-data with the cookie: the token is what stops it.
      key: 'POST /api/v1/rooms/:roomId/files',
      build: async () => {
        const { payload, contentType } = multipart([{ name: 'file', filename: 'forged.txt', data: Buffer.from('forged upload') }]);
        return { session: cw.caller, probe: { method: 'POST', url: `/api/v1/rooms/${cw.ownRoom.id}/files`, payload, headers: { 'content-type': contentType } } };
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

  async function ownMessageUrl(): Promise<string> {
    const sent = (await post(cw.caller, `/api/v1/rooms/${cw.ownRoom.id}/messages`, { body: 'to change', clientId: randomUUID() }, 201)).json() as { message: { seq: number } };
    return `/api/v1/rooms/${cw.ownRoom.id}/messages/${sent.message.seq}`;
  }

  async function freshMemberOf(room: Room): Promise<Session> {
    const member = await signUp(t.app, uniqueName('target'));
    await post(member, `/api/v1/rooms/${room.id}/join`);
    return member;
  }

  beforeEach(async () => {
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
        headers: { ...probe.headers, ...(headers as Record<string, string>) },
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
